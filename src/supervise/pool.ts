import type { Logger } from 'pino'
import { readCacheBytes, type ResolvedConfig } from '../config/index.js'
import type { FromInstance, ReadyMessage, SerializedError } from '../protocol.js'
import { Instance, type InstanceLoss } from './instance.js'
import { isUnexplainedLoss } from '../recovery/index.js'
import { MemoryGuard, type MemoryStep } from './memory-guard.js'
import { isServingLeaseExpired } from './serving-lease.js'
import { memoryDue, rejuvenationDue, rejuvenationLine, type RejuvenationReason } from './rejuvenation.js'
import { SacrificialSet, shapeKey, type InstanceShape, type SacrificialNeed } from './sacrificial-set.js'
import { bump, tallies, type InstanceRole } from '../metrics/index.js'

export interface PoolHooks {
  onMessage: (instance: Instance, message: FromInstance) => void
  /** An active instance died; its in-flight requests must be re-served or failed. */
  onLost: (instance: Instance, loss: InstanceLoss, recoveryMs: number) => void
  /** New capacity: queued requests can be dispatched. */
  onCapacity: () => void
  /**
   * An instance's beat has stood still past `stillLimitMs` (`stillMs` so far), while the handler
   * of `requestId` ran synchronously (null: none did). Called on every tick while it lasts.
   */
  onStalled: (instance: Instance, requestId: number | null, stillMs: number) => void
  /** A sacrificial instance stands still past `stillLimitMs` while `requestId`'s handler runs. */
  onStalledApart: (instance: Instance, requestId: number) => void
  /** How long the beat may stand still while `requestId`'s handler runs before the instance counts as stalled. */
  stillLimitMs: (instance: Instance, requestId: number | null) => number
  /** How long a serving instance may stand still while `requestId`'s handler runs before it is ended as stuck. */
  leaseMs: (instance: Instance, requestId: number | null) => number
  /** A still stretch of `ms` ended (the beat moved again) that `requestId`'s handler ran through. */
  onStretch: (instance: Instance, requestId: number | null, ms: number) => void
  /**
   * An instance takes no new work (a suppressed crash tainted it, or it is being rejuvenated):
   * what it was sent and has not started may move elsewhere now.
   */
  onTainted: (instance: Instance) => void
  /** A tainted instance is draining: whatever it still holds outside HTTP (upgraded sockets) ends. */
  onRetired: (instance: Instance) => void
  /** Spares keep failing to start after the service was up: escalate. */
  onStartFailures: (error: SerializedError) => void
  /**
   * A serving instance (not being drained, not crash-looping at start) was lost with no request
   * to blame: what restart intensity counts (see src/recovery/restarts.ts). Called before `onLost`.
   */
  onUnexplainedLoss?: (instance: Instance, loss: InstanceLoss) => void
}

/** Consecutive failed starts (after the service was up) before the pool gives up. */
const MAX_START_FAILURES = 5

/**
 * An instance that dies this soon after loading, with no request to blame, is crash-looping
 * (a bad timer at start, a failing connection at boot). Five such deaths in a row are treated
 * like failed starts, so a broken app is reported instead of respawned forever.
 */
const MIN_HEALTHY_UPTIME_MS = 1000

/**
 * The supervisor's view of the instances: N active ones serving traffic plus warm spares.
 * A lost instance is replaced by a ready spare at once (a swap, not a cold start) and a new
 * spare is started in the background; a stalled heartbeat past the lease kills an instance.
 */
export class Pool {
  readonly active: Instance[] = []
  private readonly spares: Instance[] = []
  /** Active instances whose heartbeat stalled: they do not count as serving capacity. */
  private readonly stalled = new Set<Instance>()
  /** Tainted instances finishing their requests before they drain. */
  private readonly retiring = new Set<Instance>()
  /**
   * Instances asked to exit. Their lease still counts: one stuck in a loop nobody waits for any
   * more (an abandoned request) cannot exit by itself, and would spin a core forever.
   */
  private readonly draining = new Set<Instance>()
  /** Spares-to-be, not ready yet; a recovery run that needs an instance may claim one (see takeSpare). */
  private readonly starting = new Set<Instance>()
  private nextId = 1
  private startFailures = 0
  private retryTimer: NodeJS.Timeout | null = null
  private leaseTimer: NodeJS.Timeout | null = null
  private stopped = false
  private advertisedPort: number | undefined
  /** Where the recovery ladder runs (see sacrificial-set.ts); never picked for ordinary traffic. */
  private readonly sacrificial: SacrificialSet
  /** The most work, in ms of its event loop, an instance may hold not started (see `pick`). */
  private readonly backlogBudgetMs: number
  /** Heap, external memory and the process's RSS against their limits (see memory-watch.ts). */
  private readonly memory: MemoryGuard

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly hooks: PoolHooks,
    /** Prefix of its instances' ids (a component's name and `/`), so ids are unique in the runtime. */
    private readonly idPrefix = '',
  ) {
    this.advertisedPort = config.port
    this.backlogBudgetMs = config.timeouts.leaseMs / 4
    this.memory = new MemoryGuard({ heapPercent: config.rejuvenate.heapPercent, externalMb: config.limits.externalMb }, config.limits.rssMb)
    const ordinary = shapeKey({ heapMb: config.limits.heapMb, stackMb: config.limits.stackMb, leaseMs: config.timeouts.leaseMs })
    this.sacrificial = new SacrificialSet(
      config.recovery.sacrificial,
      config.limits.concurrency,
      (shape) => this.spawn(shape),
      (shape) => (shape === ordinary ? this.takeSpare() : null),
      () => this.hooks.onCapacity(),
      (instance) => this.drain(instance),
      () => this.lingeringSacrificial(),
      config.incidents.record,
    )
  }

  /**
   * Starts every instance and waits until all have loaded the app. Rejects with the app's
   * error when loading fails, so a broken module is reported once instead of respawned.
   */
  async start(): Promise<ReadyMessage> {
    const first = Array.from({ length: this.config.instances + this.config.spares }, () => this.spawn())
    const results = await Promise.allSettled(first.map((i) => i.ready))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) {
      await Promise.all(first.map((i) => i.stop()))
      throw (failed as PromiseRejectedResult).reason as SerializedError
    }
    // Often enough to see a stretch pass its limit (50 ms at the least) within a tick or so.
    const leaseTick = Math.max(5, Math.min(25, Math.floor(this.config.timeouts.leaseMs / 4)))
    this.leaseTimer = setInterval(() => this.checkLeases(), leaseTick)
    this.leaseTimer.unref()
    return (results[0] as PromiseFulfilledResult<ReadyMessage>).value
  }

  /** Warm spares started and idle now (for health reports). */
  get spareCount(): number {
    return this.spares.length
  }

  /** Instances starting (spares-to-be), not ready yet (for metrics and `crashless status`). */
  get startingCount(): number {
    return this.starting.size
  }

  /** Every instance the pool holds with its role, for metrics and `crashless status`; built on demand (a scrape), never per request. */
  roster(): { instance: Instance; role: InstanceRole }[] {
    const seen = new Map<Instance, InstanceRole>()
    const lists: [Iterable<Instance>, InstanceRole][] = [[this.active, 'serving'], [this.spares, 'spare'], [this.sacrificial.all, 'sacrificial'], [this.retiring, 'retiring'], [this.draining, 'draining']]
    for (const [list, role] of lists) for (const instance of list) if (!seen.has(instance) && instance.state !== 'dead') seen.set(instance, role)
    return [...seen].map(([instance, role]) => ({ instance, role }))
  }

  /** The port the dispatcher bound, reported by captured servers' address() from now on. */
  setAdvertisedPort(port: number): void {
    this.advertisedPort = port
  }

  /**
   * The least-loaded active instance with room for one more request, or null. Room means under
   * `limits.concurrency` and, for a busy instance, able to start it within a quarter of a lease
   * by its recent cost per request: CPU-bound requests wait here, where any instance can take
   * them, rather than in one instance's queue, where they would wait behind each other.
   */
  pick(): Instance | null {
    let best: Instance | null = null
    let marked: Instance | null = null
    for (const instance of this.active) {
      if (instance.state !== 'ready' || instance.inflight.size >= this.config.limits.concurrency) continue
      if (instance.inflight.size > 0) {
        if (this.stalled.has(instance) || instance.backlogMs() > this.backlogBudgetMs) continue
      }
      // Past a memory mark: the next tick rejuvenates it, and nothing more should grow it
      // meanwhile if another instance can take the request. Only a fallback, never a refusal: a
      // figure taken between collections may count old garbage, and no rule here may leave a
      // request waiting while an instance has room (the hard mark still guards the cap).
      if (memoryDue(instance, this.config.rejuvenate.heapPercent)) {
        if (!marked || instance.inflight.size < marked.inflight.size) marked = instance
        continue
      }
      if (best && instance.inflight.size >= best.inflight.size) continue
      best = instance
    }
    return best ?? marked
  }

  /**
   * A ready sacrificial instance for a tweaked run, or null (one is then started if the bound
   * allows, and `onCapacity` fires when it is ready).
   */
  pickSacrificial(need: SacrificialNeed): Instance | null {
    if (this.stopped) return null
    return this.sacrificial.pick(need)
  }

  /**
   * True when every sacrificial instance there may be is stuck in a run (its beat still for half a
   * lease, a request in it): runs waiting for one wait on stuck poison. Instances starting,
   * crashing or on their way out turn over soon, so they never make it full.
   */
  get sacrificialFull(): boolean {
    const now = performance.now()
    const all = this.sacrificial.all
    if (all.length < this.config.recovery.sacrificial) return false
    return all.every((instance) => instance.state === 'ready' && instance.inflight.size > 0 && instance.stillMs(now) >= this.config.timeouts.leaseMs / 2)
  }

  /** Sacrificial instances now (for health reports). */
  get sacrificialCount(): number {
    return this.sacrificial.all.length
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.leaseTimer) clearInterval(this.leaseTimer)
    if (this.retryTimer) clearTimeout(this.retryTimer)
    await Promise.all([...this.active, ...this.spares, ...this.retiring, ...this.draining, ...this.sacrificial.all].map((i) => i.stop()))
  }

  /**
   * A request crashed in this instance and was suppressed: stop giving it work, put a spare in
   * its place now, and drain it once its in-flight requests are done (or kill it if they take
   * longer than a request may, so its requests are re-served).
   */
  taint(instance: Instance): void {
    if (instance.state !== 'ready') return
    instance.state = 'tainted'
    this.sacrificial.remove(instance)
    const index = this.active.indexOf(instance)
    if (index >= 0) this.active.splice(index, 1)
    const spare = this.spares.indexOf(instance)
    if (spare >= 0) this.spares.splice(spare, 1)
    this.retiring.add(instance)
    this.balance()
    this.hooks.onTainted(instance)
    if (instance.inflight.size === 0) return this.retire(instance)
    setTimeout(() => {
      if (instance.state === 'tainted') instance.kill('drain-timeout')
    }, this.config.timeouts.requestMs).unref()
  }

  /**
   * Proactive rejuvenation: the instance takes no new requests, a spare takes its place now, and
   * it exits once what it holds is done (as for a tainted one). Loss-free, so it is logged, not
   * reported as a loss.
   */
  private rejuvenate(instance: Instance, why: RejuvenationReason, now: number): void {
    const heapMb = instance.heapMb
    const started = performance.now()
    this.taint(instance)
    const swapMs = performance.now() - started
    bump(tallies.rejuvenations, why)
    this.log.info(rejuvenationLine(instance, why, heapMb, this.memory.rss, now - instance.readyAt, swapMs), `instance ${instance.id} rejuvenated (${why}); a spare took its place`)
  }

  /** A tainted instance has no requests left: let it exit quietly. */
  retire(instance: Instance): void {
    this.retiring.delete(instance)
    this.hooks.onRetired(instance)
    this.drain(instance)
  }

  /** Sacrificial instances drained or retiring and not yet dead. */
  private lingeringSacrificial(): number {
    let n = 0
    for (const instance of this.draining) if (instance.role === 'sacrificial' && instance.state !== 'dead') n++
    for (const instance of this.retiring) if (instance.role === 'sacrificial' && instance.state !== 'dead') n++
    return n
  }

  private drain(instance: Instance): void {
    this.draining.add(instance)
    instance.drain()
  }

  /**
   * A warm spare handed over to serve as a sacrificial instance, or one still starting (the caller
   * waits for its `ready`); a new spare is started.
   *
   * Why a starting one: a stall promotes the ready spare into the stalled instance's place and
   * starts another, and the suspect's next copy, which must run alone on a sacrificial instance,
   * arrives within a few hundred ms. Starting a second instance for it beside the spare-to-be
   * made both slower on a loaded machine (bench:poison, loop: the probe's instance was ready
   * 230 ms after the spare-to-be it could have had), and the verdict waits for that probe.
   */
  private takeSpare(): Instance | null {
    let spare: Instance | undefined = this.spares.find((i) => i.state === 'ready' && i.served === 0)
    if (spare) this.spares.splice(this.spares.indexOf(spare), 1)
    else {
      spare = this.starting.values().next().value
      if (!spare) return null
      this.starting.delete(spare)
    }
    this.balance()
    return spare
  }

  /** Starts an instance: a spare-to-be, or (given a shape) a sacrificial one, which the caller keeps. */
  private spawn(shape?: InstanceShape): Instance {
    const instance = new Instance({
      id: `${this.idPrefix}${shape ? 's' : 'i'}${this.nextId++}`,
      isolation: this.config.isolation,
      entry: this.config.entry,
      style: this.config.style,
      heapMb: shape?.heapMb ?? this.config.limits.heapMb,
      stackMb: shape?.stackMb ?? this.config.limits.stackMb,
      externalMb: this.config.limits.externalMb,
      leaseMs: shape?.leaseMs ?? this.config.timeouts.leaseMs,
      startTimeoutMs: this.config.timeouts.startMs,
      advertisedPort: this.advertisedPort,
      sessions: this.config.session.enabled ? { ttlMs: this.config.session.ttlMs } : null,
      // Off where other runtimes or nodes write the store: their commits send no invalidations here.
      readCacheBytes: readCacheBytes(this.config),
      onMessage: this.hooks.onMessage,
      onLost: (i, loss) => this.handleLost(i, loss),
      onTakenBack: (i) => this.hooks.onTainted(i),
    })
    if (!shape) this.starting.add(instance)
    instance.ready.then(
      () => {
        // Claimed while it started (takeSpare): the sacrificial set has it now.
        const claimed = !shape && !this.starting.delete(instance)
        if (this.stopped) return void instance.stop()
        // Surviving past the minimum uptime proves the app starts fine; forget past failures.
        setTimeout(() => {
          if (instance.state === 'ready') this.startFailures = 0
        }, MIN_HEALTHY_UPTIME_MS).unref()
        if (shape || claimed) return
        this.spares.push(instance)
        this.balance()
      },
      (error: SerializedError) => {
        const claimed = !shape && !this.starting.delete(instance)
        if (this.stopped || this.leaseTimer === null) return
        if (shape || claimed) {
          this.log.error({ event: 'spare-start-failed', instance: instance.id, error, sacrificial: true }, 'a sacrificial instance failed to start')
          return
        }
        this.startFailures++
        this.log.error({ event: 'spare-start-failed', instance: instance.id, error, failures: this.startFailures }, 'an instance failed to start')
        if (this.startFailures >= MAX_START_FAILURES) return this.hooks.onStartFailures(error)
        // Back off so an app that fails at start is not respawned in a tight loop.
        const delay = Math.min(5000, 100 * 2 ** this.startFailures)
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null
          this.balance()
        }, delay)
      },
    )
    return instance
  }

  /** Promotes ready spares into missing active slots and starts spares that are missing. */
  private balance(): void {
    if (this.stopped) return
    let promoted = false
    // A stalled instance is probably blocked until its lease expires: promote a spare in its
    // place now rather than at the kill, so capacity does not wait a whole lease.
    let serving = this.active.length - this.stalled.size
    while (serving < this.config.instances && this.spares.length > 0) {
      this.active.push(this.spares.shift()!)
      serving++
      promoted = true
    }
    const wanted = this.config.instances - serving + this.config.spares
    if (this.retryTimer === null) {
      while (this.spares.length + this.starting.size < wanted) this.spawn()
    }
    if (promoted) this.hooks.onCapacity()
  }

  private handleLost(instance: Instance, loss: InstanceLoss): void {
    const lostAt = performance.now()
    // Only a serving instance's death says the app cannot start: sacrificial ones die of the
    // requests they were given, and a draining one of an abandoned request it was still running.
    const crashLooping = loss.culprit === null && instance.inflight.size === 0 && lostAt - instance.readyAt < MIN_HEALTHY_UPTIME_MS && instance.role === 'serving' && !this.draining.has(instance)
    if (crashLooping && ++this.startFailures >= MAX_START_FAILURES && !this.stopped) {
      this.hooks.onStartFailures(loss.error ?? { name: 'Error', message: `instances keep dying right after start (${loss.reason})`, code: undefined, stack: undefined })
    }
    if (!crashLooping && isUnexplainedLoss(loss, instance.role === 'serving' && !this.draining.has(instance))) this.hooks.onUnexplainedLoss?.(instance, loss)
    const activeIndex = this.active.indexOf(instance)
    if (activeIndex >= 0) this.active.splice(activeIndex, 1)
    const spareIndex = this.spares.indexOf(instance)
    if (spareIndex >= 0) this.spares.splice(spareIndex, 1)
    this.sacrificial.remove(instance)
    this.retiring.delete(instance)
    this.draining.delete(instance)
    this.stalled.delete(instance)
    this.memory.forget(instance)
    if (this.stopped) return
    this.balance()
    this.hooks.onLost(instance, loss, performance.now() - lostAt)
  }

  private checkLeases(): void {
    const now = performance.now()
    this.memory.sample()
    this.sacrificial.reap(now)
    let freed = false
    for (const instance of this.draining) {
      if (instance.state === 'dead') {
        this.draining.delete(instance)
        // A sacrificial one gone makes room for recovery runs that wait (see SacrificialSet).
        freed ||= instance.role === 'sacrificial'
      } else {
        instance.observe(now)
        // A rejuvenated one drains with the heap that got it rejuvenated: judged as if serving.
        const expired = instance.role === 'sacrificial' ? instance.isLeaseExpired(now, undefined, 0.5) : isServingLeaseExpired(instance, now, this.config.timeouts.leaseMs)
        if (expired) instance.kill('lease-expired')
      }
    }
    if (freed) this.hooks.onCapacity()
    for (const instance of [...this.active, ...this.spares, ...this.retiring, ...this.sacrificial.all]) {
      if (instance.state !== 'ready' && instance.state !== 'tainted') continue
      const ended = instance.observe(now)
      if (ended) this.hooks.onStretch(instance, ended.owner, ended.ms)
      // Past a hard mark while it still runs requests, it is ended now, from outside, before V8
      // reaches its limit and perhaps aborts the whole process. Idle, it cannot grow: it is
      // rejuvenated below, losing nothing. Sacrificial instances too: poison re-runs there.
      const limit = this.memory.check(instance, instance.state === 'ready' && instance.role === 'serving' ? 'ready' : 'leaving', now)
      if (limit) {
        this.applyMemory(limit, now)
        continue
      }
      // A sacrificial instance has no ordinary traffic to protect: only its own lease matters,
      // and what a stall there says about its route.
      if (instance.role === 'sacrificial') {
        // What a stall there proves decides a verdict, so it must have had the CPU: half a lease
        // of it, or three leases of waiting.
        if (instance.isLeaseExpired(now, undefined, 0.5)) instance.kill('lease-expired')
        else if (instance.inflight.size > 0 && instance.stillOwner !== null && instance.stillRunMs(now) >= this.hooks.stillLimitMs(instance, instance.stillOwner)) this.hooks.onStalledApart(instance, instance.stillOwner)
        continue
      }
      if (instance.state === 'ready' && this.active.includes(instance)) {
        const why = rejuvenationDue(instance, this.config.rejuvenate, now)
        // Routine reasons wait for a ready spare, so capacity never dips; memory heading for a
        // limit does not wait.
        if (why === 'heap' || why === 'external' || (why !== null && this.spares.some((s) => s.state === 'ready'))) this.rejuvenate(instance, why, now)
      }
      // Suspected and ended by the CPU time the still stretch ran (on a loaded machine a busy
      // handler waits for a core, and its wall time says nothing about being stuck; see
      // serving-lease.ts).
      const still = instance.stillRunMs(now)
      const running = instance.stillOwner
      if (isServingLeaseExpired(instance, now, Math.max(this.config.timeouts.leaseMs, this.hooks.leaseMs(instance, running)))) {
        instance.kill('lease-expired')
        continue
      }
      if (still > 0 && instance.inflight.size > 0 && still >= this.hooks.stillLimitMs(instance, running)) {
        // Out of rotation first: the requests moved off it must not be handed straight back.
        if (this.active.includes(instance) && !this.stalled.has(instance)) {
          this.stalled.add(instance)
          this.balance()
        }
        this.hooks.onStalled(instance, running !== null && running > 0 ? running : null, still)
      } else if (this.stalled.delete(instance)) {
        // It recovered (a long GC, a slow synchronous task): it serves again, one spare short
        // until the next loss rebalances.
      }
    }
    this.checkRss(now)
  }

  /**
   * The process nearing its RSS limit (the cgroup's, or `limits.rssMb`): the instance holding
   * the most memory is rejuvenated, then ended, one at a time, so the kernel's OOM killer never
   * takes the whole runtime for what one instance holds.
   */
  private checkRss(now: number): void {
    if (this.memory.rssLimitMb <= 0) return
    const live: { instance: Instance; state: 'ready' | 'leaving' }[] = []
    for (const instance of [...this.active, ...this.spares]) if (instance.state === 'ready') live.push({ instance, state: 'ready' })
    for (const instance of [...this.retiring, ...this.draining, ...this.sacrificial.all]) if (instance.state !== 'dead' && instance.state !== 'starting') live.push({ instance, state: 'leaving' })
    const step = this.memory.checkRss(live, now)
    if (step) this.applyMemory(step, now, 'rss')
  }

  private applyMemory(step: MemoryStep, now: number, why: RejuvenationReason = 'heap'): void {
    if (step.do === 'rejuvenate') return this.rejuvenate(step.instance, why, now)
    this.log.warn(
      { event: 'memory-limit', instance: step.instance.id, role: step.instance.role, code: step.error.code, heapMb: step.instance.heapMb, externalMb: step.instance.externalMb, rssMb: this.memory.rss, rssLimitMb: this.memory.rssLimitMb, inflight: step.instance.inflight.size },
      step.error.message,
    )
    step.instance.kill('out-of-memory', { error: step.error, blameRunning: step.blameRunning })
  }
}

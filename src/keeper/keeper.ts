import { defaults } from '../config/index.js'
import type { Logger } from '../log.js'
import type { KeeperCounts, KeeperSettings, PromoteMessage, RuntimeToKeeper } from './keeper-protocol.js'
import { KeeperSockets } from './keeper-sockets.js'
import { ReportGather } from './report-gather.js'
import { forgetOldRestarts, isIntensityExceeded } from './restart-intensity.js'
import { RuntimeProcess, type RuntimeExit } from './runtime-process.js'
import { RuntimeSlots, type Slot } from './runtime-slots.js'
import { SuspectBook } from './suspect-book.js'
import { readInFlight } from '../in-flight/index.js'

/** How often the keeper looks at its runtimes' heartbeats. */
const WATCH_EVERY_MS = 100
/** How long after a death-promotion the next standby starts (see promote). */
const STANDBY_AFTER_DEATH_MS = 1_000
/** Past `timeouts.drainMs`, what a draining runtime gets to close its stores before SIGKILL. */
const DRAIN_MARGIN_MS = 5_000

/** What starts a keeper: the `crashless run` arguments its runtimes get, and its log. */
export interface KeeperOptions {
  readonly args: readonly string[]
  readonly log: Logger
  /** Where runtimes write the signatures they have in flight (one file each). */
  readonly inFlightDir: string
}

type Promotion = PromoteMessage['reason']

/**
 * The keeper (Otherworld's crash kernel, ladder level 4): owns the listening sockets, keeps
 * `runtimes` active runtimes (they all accept on the service socket; the kernel spreads the
 * connections) and one warm standby, and when an active one dies for any reason promotes the
 * standby into its slot at once while the sockets stay open, so new connections wait in the
 * backlog or go to the other runtimes. It runs no user code and parses no HTTP; everything it
 * decides is in this file.
 *
 * @example
 * ```ts
 * const code = await new Keeper({ args: ['app.mjs', '--port', '3000'], log, inFlightDir }).run()
 * process.exitCode = code
 * ```
 */
export class Keeper {
  private readonly sockets: KeeperSockets
  private readonly draining = new Set<RuntimeProcess>()
  /** Every runtime started and not yet exited, whatever its role: none can be forgotten at stop. */
  private readonly started = new Set<RuntimeProcess>()
  private readonly suspects = new SuspectBook(2)
  private readonly gather = new ReportGather()
  private readonly slots = new RuntimeSlots()
  /** One standby for all slots: it replaces whichever active runtime dies first. */
  private standby: RuntimeProcess | null = null
  /** `runtimes` of the current code's config (1 until the first runtime is ready). */
  private desired = 1
  /** Reloads started: runtimes of an older generation are replaced one at a time. */
  private generation = 0
  private reloading = false
  private settings: KeeperSettings = defaults.keeper
  private drainMs: number = defaults.timeouts.drainMs
  private deaths: number[] = []
  private lastFailures: string[] = []
  private poison: PromoteMessage['poison'] = []
  private lostAt = 0
  private served = false
  private stopping = false
  private watch: NodeJS.Timeout | null = null
  private standbyTimer: NodeJS.Timeout | null = null
  /** Standby starts failed in a row (exit before ready), for the retry's backoff. */
  private standbyFailures = 0
  private finish: (code: number) => void = () => {}
  /** For `/metrics`: relayed to the runtime serving the admin endpoint (see `tell`). */
  private readonly counts: KeeperCounts = { runtimeDeaths: { active: 0, standby: 0, replacement: 0, escalation: 0 }, promotions: { start: 0, death: 0, reload: 0, escalation: 0 }, reloads: { started: 0, succeeded: 0, failed: 0 } }

  constructor(private readonly options: KeeperOptions) {
    this.sockets = new KeeperSockets(options.log)
  }

  /** Starts the first runtime; resolves with the exit code once the keeper stops. */
  run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve))
    this.slots.missing(1)[0]!.next = { runtime: this.start(), reason: 'start' }
    this.watch = setInterval(() => this.checkLeases(), WATCH_EVERY_MS)
    process.on('SIGTERM', () => this.stop('SIGTERM'))
    process.on('SIGINT', () => this.stop('SIGINT'))
    process.on('SIGHUP', () => this.reload('SIGHUP'))
    return done.finally(() => clearInterval(this.watch!))
  }

  /**
   * `crashless reload` / SIGHUP: start the new code, promote it once ready, drain the old; with
   * several runtimes one slot at a time, lowest first, so the others serve meanwhile and the
   * machine carries one extra runtime, not `runtimes` of them.
   */
  reload(from: string): void {
    if (this.stopping) return
    if (this.reloading || this.slots.starting) {
      this.options.log.warn({ event: 'reload-ignored', from }, 'a runtime is already starting; reload ignored')
      return
    }
    this.options.log.info({ event: 'reload', from }, `reload (${from}): starting a runtime with the new code and config`)
    this.count('reloads', 'started')
    this.generation++
    this.reloading = true
    this.continueReload()
  }

  /** SIGTERM/SIGINT: stop accepting, let every runtime drain, exit 0 once all are gone. */
  stop(signal: string): void {
    if (this.stopping) return
    this.stopping = true
    this.options.log.info({ event: 'shutdown', signal, drainMs: this.drainMs }, `received ${signal}; draining`)
    void this.sockets.close()
    const all = this.alive()
    for (const runtime of all) runtime.send({ type: 'drain', handover: false })
    if (all.length === 0) return this.finish(0)
    setTimeout(() => this.alive().forEach((r) => r.kill('did not drain in time')), this.drainMs + DRAIN_MARGIN_MS).unref()
  }

  private start(): RuntimeProcess {
    const runtime = RuntimeProcess.start(this.options.args, {
      message: (runtime, message) => this.heard(runtime, message),
      exit: (runtime, exit) => this.exited(runtime, exit),
    })
    runtime.generation = this.generation
    this.started.add(runtime)
    return runtime
  }

  private heard(runtime: RuntimeProcess, message: RuntimeToKeeper): void {
    switch (message.type) {
      case 'ready': {
        this.settings = message.keeper
        this.drainMs = message.drainMs
        this.options.log.level = message.logLevel
        // A runtime started before a reload still reads the old config.
        if (runtime.generation === this.generation) this.desired = message.runtimes
        if (this.stopping) return void runtime.send({ type: 'drain', handover: false })
        const slot = this.slots.awaiting(runtime)
        if (slot) return void this.promote(runtime, slot, slot.next!.reason)
        if (this.standby === runtime) {
          runtime.state = 'standby'
          this.standbyFailures = 0
          this.options.log.info({ event: 'standby-ready', pid: runtime.pid, startMs: Math.round(performance.now() - runtime.startedAt) }, `standby runtime ${runtime.pid} ready`)
          return
        }
        // Started for a role another runtime took meanwhile: not needed.
        return this.retire(runtime)
      }
      case 'gave-up':
        return this.giveUp(`the runtime gave up: ${message.message}`)
      case 'reload':
        return this.reload('admin endpoint')
      case 'escalate':
        return this.escalate(runtime, message.why)
      case 'suspect-cleared':
        return this.suspects.clear(message.record)
      case 'verdict':
        // Every other runtime, standby included: a poison learned by one is refused by all.
        for (const other of this.alive()) if (other !== runtime) other.send({ ...message, from: runtime.pid })
        return
      case 'gather':
        return this.gather.ask(runtime, message.id, this.slots.actives().filter((r) => r !== runtime))
      case 'report':
        return this.gather.answer(runtime, message.id, message.report)
      case 'beat':
        return
    }
  }

  /**
   * Ladder level 3 escalating to 4: an active runtime's instances keep dying with nobody to
   * blame. The standby (same code) takes its slot and it drains, losing nothing; this counts as
   * a runtime death for the keeper's own intensity. Without a ready standby it goes on as it is.
   */
  private escalate(runtime: RuntimeProcess, why: string): void {
    const slot = this.slots.of(runtime)
    if (!slot || this.stopping) return
    const standby = this.standby
    if (standby?.state !== 'standby') {
      this.options.log.error({ event: 'escalation-deferred', pid: runtime.pid, why }, 'a runtime asked to be replaced, but no standby is ready')
      return
    }
    if (!this.countDeath(`runtime ${runtime.pid} escalated: ${why}`, 'escalation')) return
    this.standby = null
    void this.promote(standby, slot, 'escalation')
  }

  private async promote(runtime: RuntimeProcess, slot: Slot, reason: Promotion): Promise<void> {
    slot.next = null
    if (!this.sockets.bound && !(await this.bind(runtime))) return
    const previous = slot.active
    runtime.state = 'active'
    runtime.activeSince = performance.now()
    slot.active = runtime
    this.sockets.hand(runtime)
    // Before the admin socket moves, so that it moves off the runtime this one replaces.
    if (previous && (reason === 'reload' || reason === 'escalation')) this.retire(previous)
    this.moveAdmin()
    runtime.send({ type: 'promote', first: !this.served, reason, slot: slot.index + 1, suspects: this.suspects.list(), poison: this.poison })
    this.count('promotions', reason)
    this.poison = []
    this.served = true
    this.route()
    if (reason === 'death') {
      this.options.log.warn({ event: 'runtime-promoted', pid: runtime.pid, slot: slot.index + 1, ms: Math.round(performance.now() - this.lostAt) }, `standby runtime ${runtime.pid} promoted`)
    }
    if (reason === 'reload') {
      this.options.log.info({ event: 'reloaded', pid: runtime.pid, slot: slot.index + 1, previous: previous?.pid }, `runtime ${runtime.pid} serves the new version; draining ${previous?.pid}`)
      // The standby runs the old code too.
      if (this.standby && this.standby.generation < this.generation) {
        this.retire(this.standby)
        this.standby = null
      }
      this.continueReload()
    }
    if (reason === 'escalation' && previous) {
      this.options.log.warn({ event: 'runtime-replaced', pid: runtime.pid, previous: previous.pid }, `standby runtime ${runtime.pid} took over; draining ${previous.pid}`)
    }
    this.fill()
    // After a death the promoted runtime has a backlog to serve, and a standby starting beside
    // it (loading the app in every instance) would take half of 2 cores from it: wait a moment.
    if (reason === 'death') this.standbyTimer = setTimeout(() => this.ensureStandby(), STANDBY_AFTER_DEATH_MS).unref()
    else this.ensureStandby()
  }

  /** The next slot a reload replaces (one at a time), or the reload is done. */
  private continueReload(): void {
    const slot = this.slots.outdated(this.desired, this.generation)
    if (slot) {
      slot.next = { runtime: this.start(), reason: 'reload' }
      return
    }
    this.reloading = false
    this.count('reloads', 'succeeded')
    this.trim()
  }

  /** Starts a runtime for every slot up to `runtimes` that has none (at start, or when a reload raised the count). */
  private fill(): void {
    if (this.stopping) return
    for (const slot of this.slots.missing(this.desired)) slot.next = { runtime: this.start(), reason: 'start' }
  }

  /** Retires the runtimes of slots past `runtimes` (a reload lowered the count). */
  private trim(): void {
    if (this.reloading) return
    const excess = this.slots.cut(this.desired)
    if (excess.length === 0) return
    // One still starting is retired when ready: it belongs to no slot any more.
    for (const slot of excess) if (slot.active) this.retire(slot.active)
    this.moveAdmin()
    this.route()
  }

  /** Binds the sockets where the first ready runtime asked; false (and the keeper stops) when the service cannot. */
  private async bind(runtime: RuntimeProcess): Promise<boolean> {
    try {
      await this.sockets.bind(runtime.ready!)
      return true
    } catch (err) {
      const { service } = runtime.ready!
      const where = service.host === undefined ? `port ${service.port}` : `${service.host}:${service.port}`
      process.stderr.write(`crashless: invalid config: port: cannot listen on ${where}: ${(err as Error).message}\n`)
      this.stopping = true
      for (const r of [runtime, ...this.alive()]) r.kill('the keeper cannot bind')
      this.finish(1)
      return false
    }
  }

  private route(): void {
    this.sockets.route(() => this.slots.actives())
  }

  private moveAdmin(): void {
    if (this.sockets.moveAdmin(this.slots.actives())) this.tell()
  }

  private exited(runtime: RuntimeProcess, exit: RuntimeExit): void {
    this.draining.delete(runtime)
    this.started.delete(runtime)
    this.gather.gone(runtime)
    // Read (and removed) for every runtime that ends; only an active one's matter.
    const inFlight = readInFlight(this.options.inFlightDir, runtime.pid)
    this.replace(runtime, exit, inFlight)
    // After the replacement is decided: these go to the promoted runtime, or wait for the next.
    this.sockets.takeBack(runtime, this.stopping)
  }

  private replace(runtime: RuntimeProcess, exit: RuntimeExit, inFlight: string[]): void {
    if (this.stopping) {
      if (this.alive().length === 0) void this.sockets.close().then(() => this.finish(0))
      return
    }
    const what = exit.killedFor ?? (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`)
    const slot = this.slots.of(runtime)
    if (slot) return this.activeDied(slot, runtime, what, inFlight)
    if (runtime === this.standby) {
      this.standby = null
      if (runtime.ready) {
        this.standbyFailures = 0
        this.options.log.error({ event: 'standby-died', pid: runtime.pid, code: exit.code, signal: exit.signal }, `the standby runtime ${runtime.pid} died (${what})`)
        if (this.countDeath(`standby ${runtime.pid}: ${what}`, 'standby')) this.ensureStandby()
        return
      }
      // It could not start (the code on disk no longer loads, say): the active runtimes serve on,
      // so this is no reason to stop, only to try again later, less and less often.
      const delayMs = Math.min(60_000, 1_000 * 2 ** this.standbyFailures++)
      this.options.log.error({ event: 'standby-start-failed', pid: runtime.pid, code: exit.code, retryMs: delayMs }, `a standby runtime could not start (${what}; its error is above); retrying in ${delayMs} ms`)
      this.standbyTimer = setTimeout(() => this.ensureStandby(), delayMs).unref()
      return
    }
    const starting = this.slots.awaiting(runtime)
    if (!starting) return
    const { reason } = starting.next!
    starting.next = null
    // The first runtime could not start (a broken app, a bad config): it said why on stderr.
    if (!this.served) return this.finish(exit.code === 0 || exit.code === null ? 1 : exit.code)
    if (reason === 'reload') {
      this.options.log.error({ event: 'reload-failed', pid: runtime.pid, code: exit.code }, `the new version failed to start (${what}); the running one keeps serving`)
      this.count('reloads', 'failed')
      this.reloading = false
      this.ensureStandby()
      return
    }
    if (this.countDeath(`replacement ${runtime.pid}: ${what}`, 'replacement')) starting.next = { runtime: this.start(), reason }
  }

  private activeDied(slot: Slot, runtime: RuntimeProcess, what: string, inFlight: string[]): void {
    slot.active = null
    this.lostAt = performance.now()
    this.moveAdmin()
    this.route()
    this.poison = [...this.poison, ...this.suspects.died(inFlight)]
    this.options.log.error(
      { event: 'runtime-died', code: 'CRASHLESS_ERR_RUNTIME_LOST', pid: runtime.pid, slot: slot.index + 1, cause: what, uptimeMs: Math.round(performance.now() - runtime.activeSince), inFlight: inFlight.length, poison: this.poison.map((p) => p.record) },
      `runtime ${runtime.pid} died (${what}) with ${inFlight.length} signature(s) in flight`,
    )
    if (!this.countDeath(`runtime ${runtime.pid}: ${what}`, 'active')) return
    // Other runtimes serve on meanwhile: one of them quarantines the poison now (and relays it).
    const other = this.slots.actives()[0]
    if (other && this.poison.length > 0) {
      other.send({ type: 'runtime-deaths', poison: this.poison, suspects: [] })
      this.poison = []
    }
    // A runtime already starting to take over (a reload, a replacement) is promoted when ready.
    if (slot.next) return
    const standby = this.standby
    this.standby = null
    if (standby?.state === 'standby') void this.promote(standby, slot, 'death')
    else slot.next = { runtime: standby ?? this.start(), reason: 'death' }
  }

  /** Records a death; false (and the keeper gives up) when the restart intensity is exceeded. */
  private countDeath(what: string, role: 'active' | 'standby' | 'replacement' | 'escalation'): boolean {
    this.count('runtimeDeaths', role)
    const now = performance.now()
    this.deaths = [...forgetOldRestarts(this.deaths, now, this.settings), now]
    this.lastFailures = [...this.lastFailures.slice(-4), what]
    if (!isIntensityExceeded(this.deaths, now, this.settings)) return true
    this.giveUp(`${this.deaths.length} runtime deaths within ${this.settings.periodMs} ms (keeper.intensity is ${this.settings.intensity}); last: ${this.lastFailures.join('; ')}`)
    return false
  }

  private count(which: keyof KeeperCounts, key: string): void {
    this.counts[which][key] = (this.counts[which][key] ?? 0) + 1
    this.tell()
  }

  /** Relays the counts to the runtime serving `/metrics` (none between a death and a promotion: it gets them when it takes the admin socket). */
  private tell(): void {
    this.sockets.adminHolder?.send({ type: 'keeper-counts', counts: this.counts })
  }

  private giveUp(why: string): void {
    if (this.stopping) return
    this.stopping = true
    this.options.log.fatal({ event: 'keeper-gave-up', code: 'CRASHLESS_ERR_RESTART_INTENSITY', why }, `giving up: ${why}`)
    process.stderr.write(`crashless: giving up: ${why}\n`)
    for (const runtime of this.alive()) runtime.kill('the keeper gave up')
    void this.sockets.close().then(() => this.finish(1))
  }

  private ensureStandby(): void {
    if (this.standbyTimer) clearTimeout(this.standbyTimer)
    this.standbyTimer = null
    if (this.stopping || !this.settings.standby || this.standby || this.reloading || this.slots.starting) return
    this.standby = this.start()
  }

  private retire(runtime: RuntimeProcess): void {
    runtime.state = 'draining'
    this.draining.add(runtime)
    runtime.send({ type: 'drain', handover: true })
    setTimeout(() => runtime.kill('did not drain in time'), this.drainMs + DRAIN_MARGIN_MS).unref()
  }

  private checkLeases(): void {
    // Stopping, a runtime that hangs is ended by the drain timer instead.
    if (this.stopping) return
    const now = performance.now()
    for (const runtime of [...this.slots.actives(), this.standby]) {
      if (!runtime?.ready || runtime.state === 'dead' || now - runtime.lastBeat <= this.settings.leaseMs) continue
      this.options.log.error({ event: 'runtime-unresponsive', pid: runtime.pid, silentMs: Math.round(now - runtime.lastBeat) }, `runtime ${runtime.pid} sent no heartbeat for ${Math.round(now - runtime.lastBeat)} ms; killing it`)
      runtime.kill(`no heartbeat for ${this.settings.leaseMs} ms`)
    }
  }

  private alive(): RuntimeProcess[] {
    return [...this.started].filter((r) => r.state !== 'dead')
  }
}

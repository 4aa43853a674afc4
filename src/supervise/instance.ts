import { Outbox } from '../outbox.js'
import { AnswerTally } from './answer-tally.js'
import { threadCpuMs, threadFaultsMb } from './thread-cpu.js'
import { LeaseSlot, type FatalMessage, type FromInstance, type InstanceInit, type InstanceMessage, type ReadyMessage, type RequestMessage, type SerializedError, type ToInstance } from '../protocol.js'
import type { InstanceChannel, Isolation, TakenBack } from './instance-channel.js'
import { openChannel } from './open-channel.js'
import { signalLoss } from './signal-loss.js'
import { StreamedTapes } from './streamed-tapes.js'
import type { Tape } from '../tape.js'

/** How often an idle instance's beat moves: a quarter of a lease (see `idleHeartbeatMs`). */
function idleBeatMs(leaseMs: number): number {
  return Math.max(5, Math.floor(leaseMs / 4))
}

/** An instance's beat may stand still this many leases of wall time, however little CPU it had. */
const WALL_LEASES = 3

/** Why an instance was lost. */
export type LossReason = 'crash' | 'exit' | 'out-of-memory' | 'lease-expired' | 'start-failed' | 'drain-timeout' | 'retired'

/** What the supervisor learns when an instance dies. */
export interface InstanceLoss {
  reason: LossReason
  error: SerializedError | null
  /** The request the failure is attributed to, when the instance could tell. */
  culprit: number | null
  fatal: FatalMessage | null
  exitCode: number | null
  /** A recording instance's runs' streamed tapes (streamed-tapes.ts): those of runs that ended it without a word. */
  tapes?: ReadonlyMap<number, Tape>
}

export interface InstanceOptions {
  id: string
  /** A worker thread, or a child process (`isolation`). */
  isolation: Isolation
  entry: string
  style: InstanceInit['style']
  heapMb: number
  stackMb: number
  /** `limits.externalMb`: its cap on memory outside the V8 heap (0: none). */
  externalMb: number
  leaseMs: number
  startTimeoutMs: number
  advertisedPort: number | undefined
  sessions: InstanceInit['sessions']
  readCacheBytes: number
  onMessage: (instance: Instance, message: FromInstance) => void
  onLost: (instance: Instance, loss: InstanceLoss) => void
  /** A child process answered a take-back with requests it will not start: take them (see takeBack). */
  onTakenBack: (instance: Instance) => void
}

/**
 * One running copy of the app in a worker thread or a child process (its channel,
 * instance-channel.ts): its lifecycle, its heartbeat lease and the requests it is serving. It
 * reports its death exactly once through `onLost`.
 */
export class Instance {
  readonly id: string
  /**
   * `tainted`: a request crashed in it and the error was suppressed; it finishes what it holds
   * but takes no new work, then drains.
   */
  state: 'starting' | 'ready' | 'tainted' | 'draining' | 'dead' = 'starting'
  /** Requests posted to this instance and not yet answered, by request id. */
  readonly inflight = new Set<number>()
  /**
   * `sacrificial`: runs only the recovery ladder's re-runs, suspects and bulkheaded routes,
   * never ordinary traffic (see sacrificial-set.ts).
   */
  role: 'serving' | 'sacrificial' = 'serving'
  /** Told to record tapes (`record`): it answers an `abort` with the request's tape (`aborted`). */
  recording = false
  /** Its limits, as a key: sacrificial instances are shared by environments with equal limits. */
  readonly shape: string
  /** Requests it has been given so far (a `fresh` environment wants an instance with none). */
  served = 0
  /** Failures it lived through: requests crashed in it (suppressed), deadlines passed in it. */
  recoveries = 0
  /** What it answered: 5xx in a row and in a window, its last answers (see answer-tally.ts). */
  readonly answers = new AnswerTally()
  /** The `fresh` group whose runs it took first (see Environment.group). */
  group: string | null = null
  /** Set while an exclusive run holds it: nothing else may be sent meanwhile. */
  exclusive = false
  /**
   * Runs at the lowest CPU priority (see `yieldCpu`): a poison looping there gets only the CPU
   * serving instances leave idle (its lease counts CPU time, see `isLeaseExpired`).
   */
  yields = false
  /** When it last became idle (no requests in flight), for reaping idle sacrificial instances. */
  idleSince = performance.now()
  readonly startedAt = performance.now()
  readyAt = 0
  private readonly channel: InstanceChannel
  private readonly outbox: Outbox<ToInstance>
  private readonly heartbeat: Int32Array
  /** Requests posted so far, as the Int32 `seq` the last one carried (see RequestMessage.seq). */
  private posted = 0
  private lastBeat = 0
  private lastBeatAt = 0
  /** While the beat stands still: the request running synchronously then (null: none); else undefined. */
  private stillBy: number | null | undefined = undefined
  /** The thread's id (Linux), once ready, and its CPU time when the current still stretch was first seen. */
  private tid: number | null = null
  private stillCpuFrom: number | null = null
  private fatal: FatalMessage | null = null
  /** Its runs' streamed tapes, once it records: made on the first entry, so a serving instance has none. */
  private streamed: StreamedTapes | null = null
  private killedFor: LossReason | null = null
  private readyResolve: ((msg: ReadyMessage) => void) | null = null
  private readyReject: ((err: SerializedError) => void) | null = null
  readonly ready: Promise<ReadyMessage>

  /** How long an idle instance's beat may stand still before it counts (1.5 idle beats). */
  private readonly idleBeatGraceMs: number

  constructor(private readonly options: InstanceOptions) {
    this.idleBeatGraceMs = idleBeatMs(options.leaseMs) * 1.5
    this.id = options.id
    this.shape = `${options.heapMb}/${options.stackMb}/${options.leaseMs}`
    const init: Omit<InstanceInit, 'heartbeat'> = {
      instanceId: options.id,
      entry: options.entry,
      style: options.style,
      // Well under the shortest stretch the supervisor may call abnormal (STRETCH_FLOOR_MS), so
      // an idle instance, or one whose requests all wait on I/O, never looks still.
      heartbeatIntervalMs: Math.max(5, Math.min(12, Math.floor(options.leaseMs / 4))),
      // Idle, a quarter of a lease: its beat still moves several times a lease, and the first
      // message it receives brings the fast beat back before any request can run.
      idleHeartbeatMs: idleBeatMs(options.leaseMs),
      startTimeoutMs: options.startTimeoutMs,
      advertisedPort: options.advertisedPort,
      sessions: options.sessions,
      readCacheBytes: options.readCacheBytes,
    }
    this.ready = new Promise<ReadyMessage>((resolve, reject) => {
      this.readyResolve = resolve
      this.readyReject = reject
    })
    // Callers always attach their own handler; this one keeps a rejection from going unhandled.
    this.ready.catch(() => {})
    this.channel = openChannel(options.isolation, init, options, {
      onBatch: (batch: InstanceMessage[]) => {
        for (const msg of batch) this.handleMessage(msg)
      },
      onError: (err) => this.handleError(err),
      onExit: (code, signal) => this.handleExit(code, signal),
    })
    this.heartbeat = this.channel.lease
    this.outbox = new Outbox<ToInstance>((batch, transfer) => this.channel.send(batch, transfer))
  }

  post(message: ToInstance, transfer?: ArrayBuffer[]): void {
    if (this.state === 'dead') return
    this.outbox.post(message, transfer)
  }

  /** Posts a request, numbered for the start gate; returns its `seq`. */
  postRequest(message: Omit<RequestMessage, 'seq'>): number {
    this.streamed?.drop(message.id)
    const seq = (this.posted = (this.posted + 1) | 0)
    ;(message as RequestMessage).seq = seq
    this.post(message as RequestMessage)
    return seq
  }

  /** What run `id` streamed of its tape so far (recording), for a run that does not answer its abort. */
  streamedTape(id: number): Tape | undefined {
    return this.streamed?.get(id, null)
  }

  /** Its heap cap (`resourceLimits.maxOldGenerationSizeMb`), MiB. */
  get heapCapMb(): number {
    return this.options.heapMb
  }

  /** Its V8 heap outside the young generation (MiB), as last published (see host/heap-report.ts). */
  get heapMb(): number {
    return Atomics.load(this.heartbeat, LeaseSlot.HeapMb)
  }

  /** Its memory outside the V8 heap (MiB): Buffers, ArrayBuffers (see host/heap-report.ts). */
  get externalMb(): number {
    return Atomics.load(this.heartbeat, LeaseSlot.ExternalMb)
  }

  /** Its cap on memory outside the V8 heap (`limits.externalMb`), MiB; 0: none. */
  get externalCapMb(): number {
    return this.options.externalMb
  }

  /** Memory its thread has touched for the first time so far (MiB, see threadFaultsMb), or null (not Linux, not ready). */
  faultsMb(): number | null {
    return this.tid === null ? null : threadFaultsMb(this.tid, this.channel.procPid)
  }

  /** Its own resident memory (MiB) as a child process; null in a worker thread (the runtime's is its). */
  ownRssMb(): number | null {
    return this.channel.ownRssMb()
  }

  /** True once `kill` was called: terminated, and its memory not returned yet. */
  get ending(): boolean {
    return this.killedFor !== null && this.state !== 'dead'
  }

  /** Requests posted to it and not started yet (they may still be in transit). */
  get unstarted(): number {
    return (this.posted - Atomics.load(this.heartbeat, LeaseSlot.Started)) | 0
  }

  /**
   * How long the instance needs, by its recent cost per request, to start everything it was
   * given and has not started: a busy instance is not handed more than it can start soon.
   */
  backlogMs(): number {
    const unstarted = this.unstarted
    return unstarted <= 0 ? 0 : (unstarted * Atomics.load(this.heartbeat, LeaseSlot.CostUs)) / 1000
  }

  /**
   * Takes back every request posted and not started: the instance will skip them. Returns which
   * (see {@link isTakenBack}), or null when there was nothing to take back. A child process
   * answers later: null now, then `onTakenBack`, and the next call returns them.
   */
  takeBack(): TakenBack | null {
    return this.channel.takeBack(this.posted, (message) => this.post(message))
  }

  /**
   * Reads the lease's beat; called on every supervisor tick. When the beat moved after standing
   * still for a while, returns how long it stood still and the request whose handler ran then
   * (null if none did): a synchronous stretch that ended, for learning what is normal.
   */
  observe(now: number): { ms: number; owner: number | null } | null {
    this.channel.refresh()
    const beat = Atomics.load(this.heartbeat, LeaseSlot.Beat)
    if (beat === this.lastBeat && this.lastBeatAt !== 0) {
      // With nothing in flight its beat is slow on purpose (host/worker-main.ts): not still
      // until it misses one by half again, so idle instances cost no reads of /proc here.
      if (this.stillBy === undefined && this.inflight.size === 0 && now - this.lastBeatAt < this.idleBeatGraceMs) return null
      // The beat cannot move while one handler runs on, so the first look names the stretch's owner.
      if (this.stillBy === undefined) {
        this.stillBy = this.runningRequest()
        this.stillCpuFrom = this.tid !== null ? threadCpuMs(this.tid, this.channel.procPid) : null
      }
      return null
    }
    const ended = this.lastBeatAt !== 0 && this.stillBy !== undefined ? { ms: this.stillRunMs(now), owner: this.stillBy } : null
    this.lastBeat = beat
    this.lastBeatAt = now
    this.stillBy = undefined
    return ended
  }

  /**
   * How long the beat has stood still, as of the last `observe` (0 while it moves). Only
   * meaningful once the app is loaded: loading may legitimately block the event loop.
   */
  stillMs(now: number): number {
    return this.lastBeatAt === 0 || this.stillBy === undefined ? 0 : now - this.lastBeatAt
  }

  /** The request whose handler runs synchronously through the current still stretch, or null. */
  get stillOwner(): number | null {
    return this.stillBy ?? null
  }

  /**
   * How long the current still stretch has run: its thread's CPU time since the stretch was first
   * seen (Linux, 10 ms resolution), or the wall time where that cannot be read. A thread waiting
   * for a core on a loaded machine is not stuck, and must not be judged by the wall clock.
   */
  stillRunMs(now: number): number {
    const wall = this.stillMs(now)
    if (wall === 0 || this.stillCpuFrom === null || this.tid === null) return wall
    const used = threadCpuMs(this.tid, this.channel.procPid)
    return used === null ? wall : Math.min(wall, used - this.stillCpuFrom)
  }

  /**
   * True when the instance is stuck: its beat stood still through `leaseMs`. With `cpuShare`, the
   * stretch must also have had that share of the lease in CPU time (a thread waiting for a core on
   * a loaded machine is not stuck), unless it lasted `WALL_LEASES` leases (a thread blocked in a
   * system call uses no CPU, and a starved one holds capacity others need).
   */
  isLeaseExpired(now: number, leaseMs = this.options.leaseMs, cpuShare: number | null = null): boolean {
    const wall = this.stillMs(now)
    if (wall <= leaseMs) return false
    return cpuShare === null || wall > WALL_LEASES * leaseMs || this.stillRunMs(now) >= leaseMs * cpuShare
  }

  /**
   * From now on the instance runs at the lowest CPU priority (a sacrificial instance for a
   * route under attack): a poison looping there gets only the CPU serving instances leave idle.
   */
  yieldCpu(): void {
    if (this.yields) return
    this.yields = true
    this.post({ type: 'yield' })
  }

  /**
   * The request id whose code ran synchronously when it was killed, as the instance published it,
   * whether or not that request is still the dispatcher's (its client may have left): 0 for none.
   */
  slotAtKill = 0

  /**
   * Ends the instance for a reason found outside it (lease, drain, memory); `onLost` follows.
   * `error` says why, for a memory limit (the default: its heap). `blameRunning`: the request
   * running synchronously now caused it (memory grown inside one stretch of its handler).
   */
  kill(reason: LossReason, why: { error?: SerializedError; blameRunning?: boolean } = {}): void {
    if (this.state === 'dead' || this.killedFor) return
    this.killedFor = reason
    this.channel.refresh()
    this.killError = why.error ?? null
    this.blameRunning = why.blameRunning ?? false
    this.runningAtKill = this.runningRequest()
    this.slotAtKill = Atomics.load(this.heartbeat, LeaseSlot.Running)
    this.heapAtKill = this.heapMb
    // No new requests while termination is under way.
    this.state = 'draining'
    void this.channel.terminate()
  }

  /**
   * Asks the instance to finish and exit; no loss is reported for a drained instance. A
   * sacrificial one exits at once, unless it is stuck (then its lease ends it, and that is
   * what judges a run whose client left).
   */
  drain(): void {
    if (this.state === 'dead') return
    this.state = 'draining'
    this.post(this.role === 'sacrificial' ? { type: 'drain', graceMs: 0 } : { type: 'drain' })
  }

  /** Terminates at once, without reporting a loss (shutdown). */
  async stop(): Promise<void> {
    if (this.state === 'dead') return
    this.state = 'draining'
    await this.channel.terminate()
  }

  private handleMessage(msg: InstanceMessage): void {
    switch (msg.type) {
      case 'ready':
        this.state = 'ready'
        this.tid = msg.tid
        this.readyAt = performance.now()
        this.lastBeatAt = 0
        this.stillBy = undefined
        this.readyResolve?.(msg)
        return
      case 'start-failed':
        this.readyReject?.(msg.error)
        return
      case 'fatal':
        this.fatal = msg
        return
      case 'taken-back':
        if (this.channel.takenBack(msg) && this.state !== 'dead') this.options.onTakenBack(this)
        return
      case 'tape-entry':
        ;(this.streamed ??= new StreamedTapes()).add(msg)
        return
      default:
        this.streamed?.seen(msg)
        this.options.onMessage(this, msg)
    }
  }

  private pendingError: Error | null = null
  private runningAtKill: number | null = null
  private heapAtKill = 0
  private killError: SerializedError | null = null
  private blameRunning = false

  /**
   * The in-flight request whose handler the instance is running synchronously right now (the Running slot
   * of the lease block), or null. When the event loop is stuck or the heap runs out inside a
   * handler, that request is the one at fault. Slot 1 holds the id as an Int32, hence `| 0`.
   */
  runningRequest(): number | null {
    const slot = Atomics.load(this.heartbeat, LeaseSlot.Running)
    if (slot === 0) return null
    // Upgraded connections have negative ids and are not in `inflight`.
    if (slot < 0) return slot
    for (const id of this.inflight) if ((id | 0) === slot) return id
    return null
  }

  private handleError(err: Error): void {
    // 'exit' always follows 'error'; keep the error and report once, on exit.
    this.pendingError = err
  }

  private handleExit(code: number | null, signal: NodeJS.Signals | null): void {
    const wasDraining = this.state === 'draining'
    const wasStarting = this.state === 'starting'
    this.state = 'dead'
    // A child process ended by a signal crashless did not send: a native crash (see signal-loss.ts).
    const died = signal !== null && !this.killedFor ? signalLoss(signal, this.heapMb, this.options.heapMb, this.runningRequest()) : null
    // A signal is the cause: an error pending then is a consequence, e.g. EPIPE from a batch sent
    // while its exit waited for the IPC pipe to drain (process-channel.ts).
    const err = died?.error ?? this.pendingError ?? null
    const oom = (err as { code?: string } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY' || died?.reason === 'out-of-memory'
    // OOM wins over the lease: a heap thrashing in GC stalls the heartbeat, and the worker often
    // reaches its cap before the termination lands. The heap is the cause worth reporting.
    const reason: LossReason = wasStarting ? 'start-failed' : oom ? 'out-of-memory' : this.killedFor ?? (this.fatal?.kind === 'exit' || !err && !this.fatal ? 'exit' : 'crash')
    const error =
      this.fatal?.error ??
      (err ? { name: err.name, message: err.message, code: (err as { code?: string }).code, stack: err.stack } : null) ??
      this.killError ??
      (this.killedFor === 'out-of-memory' ? { name: 'Error', message: `heap at ${this.heapAtKill} MiB of its ${this.options.heapMb} MiB cap: ended before V8's own limit`, code: 'CRASHLESS_ERR_HEAP_LIMIT', stack: undefined } : null)
    if (wasStarting) {
      // A failed start is reported through `ready` only: the pool decides whether to retry (with
      // backoff) or give up, so it is never replaced here in a tight loop.
      this.readyReject?.(error ?? { name: 'Error', message: `the instance exited with code ${code ?? signal} while loading the app`, code: undefined, stack: undefined })
      return
    }
    if (wasDraining && !this.killedFor) return
    // Ended by crashless as its heap neared the cap, between two samples: whichever request was
    // running at that moment is not thereby the one that allocated, so nobody is blamed (the
    // requests it held are isolated). V8's own limit is hit inside the allocating request.
    // Memory grown inside one synchronous stretch is that stretch's handler's, though.
    const preempted = this.killedFor === 'out-of-memory' && !oom && !this.blameRunning
    const stuckIn = reason === 'lease-expired' ? this.runningAtKill : reason === 'out-of-memory' && !preempted ? (this.runningAtKill ?? this.runningRequest()) : (died?.culprit ?? null)
    const tapes = this.streamed?.takeAll(reason)
    this.options.onLost(this, { reason, error, culprit: this.fatal?.requestId ?? stuckIn, fatal: this.fatal, exitCode: code, ...(tapes ? { tapes } : {}) })
  }
}

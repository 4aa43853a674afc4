import { LeaseSlot, type RequestMessage } from '../protocol.js'

/**
 * How long one slice of request starts may run before the instance yields to its event loop.
 * Short enough that responses already finished leave, store reads are answered and the lease
 * timer ticks between CPU-bound handlers; long enough that a burst of trivial requests still
 * starts in one slice (each costs a few µs).
 */
const SLICE_MS = 4

/** Weight of the newest sample in the per-request cost average (about the last 8 slices). */
const COST_WEIGHT = 0.125

/**
 * The requests an instance received and has not started yet. A batch from the dispatcher can
 * hold up to `limits.concurrency` requests; running them back to back in one turn of the event
 * loop would keep every finished response in the outbox and every timer waiting until the last
 * one returned, which for CPU-bound handlers (tens of ms each) looks, from outside, exactly like
 * a stuck loop. So they start in slices of about `SLICE_MS`, yielding in between.
 *
 * Each start moves `LeaseSlot.Started` from `seq - 1` to `seq` by compare-and-swap: a request the
 * dispatcher took back meanwhile (moved past by the same slot) is skipped, so it runs in exactly
 * one place. The slice timing also gives `LeaseSlot.CostUs`: what one request costs this event
 * loop lately, which the dispatcher uses not to hand a busy instance more work than it can
 * start soon.
 *
 * @example
 * ```ts
 * const inbox = new Inbox(lease, (msg) => handleRequest(msg))
 * parentPort.on('message', (batch) => { for (const msg of batch) if (msg.type === 'request') inbox.push(msg); inbox.run() })
 * ```
 */
export class Inbox {
  private queue: RequestMessage[] = []
  private next = 0
  private scheduled = false
  private running = false
  /** Ids aborted before they started: skipped, though their seq still moves the gate. */
  private readonly dropped = new Set<number>()
  private cost = 0
  private readonly continue = (): void => {
    this.scheduled = false
    // What the last slice finished may still wait in the outbox: its flush was scheduled after
    // this continuation when the response was posted from a tick after the handler returned.
    this.resuming()
    this.run()
  }
  /** When this turn of the event loop's slice began (0: none yet); reset by `endTurn` at the next check phase. */
  private turnBegin = 0
  private readonly endTurn = (): void => {
    this.turnBegin = 0
  }
  /** When the slice that left work behind started, and how many it started (0: none pending). */
  private carriedFrom = 0
  private carried = 0

  /**
   * @param start runs one request's handler
   * @param resuming called before a slice that continues after a yield (the host sends the
   *   responses its outbox holds)
   * @param clock what slices are timed by (tests of order pass one that does not move: a loaded
   *   machine can pause a test for longer than a slice)
   */
  constructor(
    private readonly lease: Int32Array,
    private readonly start: (msg: RequestMessage) => void,
    private readonly resuming: () => void = () => {},
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Requests received and not started. */
  get size(): number {
    return this.queue.length - this.next
  }

  push(msg: RequestMessage): void {
    this.queue.push(msg)
  }

  /** An abort for a request not started yet: it will be skipped. False when it is not here. */
  drop(id: number): boolean {
    for (let i = this.next; i < this.queue.length; i++) {
      if (this.queue[i]!.id !== id) continue
      this.dropped.add(id)
      return true
    }
    return false
  }

  /**
   * Starts what is waiting, for what is left of this turn's slice; the rest continues after the
   * event loop's turn. The slice is the turn's, not the call's: a port delivers every message
   * already queued in one callback (up to 1,000, nodejs/node src/node_messaging.cc
   * `MessagePort::OnMessage`), and an IPC channel every message of one read, so while the
   * dispatcher keeps sending one request per request finished, a call per message would run
   * CPU-bound handlers back to back for seconds without the event loop reaching its check phase,
   * where the outbox sends the responses already finished: measured, a 200 ms route's answers
   * left in batches of 13 up to 6 s late.
   */
  run(): void {
    if (this.running || this.scheduled) return
    const begin = this.clock()
    if (this.turnBegin === 0) {
      this.turnBegin = begin
      setImmediate(this.endTurn)
    } else if (begin - this.turnBegin >= SLICE_MS) {
      if (this.next < this.queue.length) {
        this.scheduled = true
        setImmediate(this.continue)
      }
      return
    }
    this.running = true
    // A slice that left work behind: the time since it began includes what its handlers
    // deferred (stream events, promise jobs) and ran after it, which a handler also costs.
    if (this.carried > 0) this.sample((begin - this.carriedFrom) / this.carried)
    let started = 0
    let now = begin
    try {
      while (this.next < this.queue.length) {
        const msg = this.queue[this.next++]!
        if (!this.claim(msg)) continue
        this.start(msg)
        started++
        now = this.clock()
        if (now - this.turnBegin >= SLICE_MS) break
      }
    } finally {
      this.running = false
      this.compact()
    }
    if (this.next < this.queue.length) {
      this.carriedFrom = begin
      this.carried = Math.max(1, started)
      this.scheduled = true
      setImmediate(this.continue)
    } else {
      this.carried = 0
      if (started > 0) this.sample((now - begin) / started)
    }
  }

  /** Moves the start gate to this request; false when it was taken back or aborted. */
  private claim(msg: RequestMessage): boolean {
    const previous = (msg.seq - 1) | 0
    const moved = Atomics.compareExchange(this.lease, LeaseSlot.Started, previous, msg.seq) === previous
    if (this.dropped.size > 0 && this.dropped.delete(msg.id)) return false
    return moved
  }

  private sample(ms: number): void {
    this.cost = this.cost === 0 ? ms : this.cost + (ms - this.cost) * COST_WEIGHT
    Atomics.store(this.lease, LeaseSlot.CostUs, Math.min(0x7fffffff, Math.round(this.cost * 1000)))
  }

  private compact(): void {
    if (this.next === this.queue.length) {
      this.queue = []
      this.next = 0
    } else if (this.next > 1024) {
      this.queue = this.queue.slice(this.next)
      this.next = 0
    }
  }
}

/**
 * A child process's side of take-back (it shares no start gate with the dispatcher): moves the
 * gate to `upTo` unless every request up to it started, so those not started are skipped.
 * Returns the seq of the last one started, or null when none was left. Runs between event-loop
 * turns, never inside `Inbox.run`, so no request starts meanwhile.
 *
 * @example
 * ```ts
 * post({ type: 'taken-back', after: takeBackLocally(lease, msg.upTo), upTo: msg.upTo })
 * ```
 */
export function takeBackLocally(lease: Int32Array, upTo: number): number | null {
  const started = Atomics.load(lease, LeaseSlot.Started)
  // Seqs wrap: `upTo` not after `started` means everything up to it has started.
  if (((upTo - started) | 0) <= 0) return null
  Atomics.store(lease, LeaseSlot.Started, upTo)
  return started
}

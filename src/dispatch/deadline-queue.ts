/**
 * Request deadlines without a timer per request. Every request gets the same deadline
 * (`timeouts.requestMs`) when it is tracked, so deadlines fall due in the order requests arrive:
 * a FIFO of request ids and one timer, armed for the oldest, replace a `setTimeout` and a
 * closure per request (a Timeout object, a timer-list insertion and a removal each). Requests
 * answered in time leave the queue as soon as they reach its head; only ids are held, so a
 * finished request is never kept alive by its deadline.
 *
 * A request whose deadline is moved (a ladder run's own deadline, see Dispatcher.setDeadline)
 * leaves this queue's care: `due` no longer matches its entry, which is then skipped.
 *
 * @example
 * ```ts
 * const deadlines = new DeadlineQueue(30_000, (id) => jobs.get(id)?.deadlineAt ?? 0, (id) => expire(id))
 * job.deadlineAt = deadlines.add(job.id)
 * ```
 */
export class DeadlineQueue {
  private ids = new Float64Array(256)
  private head = 0
  private count = 0
  private timer: NodeJS.Timeout | null = null
  private armedFor = 0

  /**
   * @param ms the deadline of every request added
   * @param due the deadline a request still has (0 when it is answered, gone or given another)
   * @param expire called once for each request whose deadline passed
   */
  constructor(
    private readonly ms: number,
    private readonly due: (id: number) => number,
    private readonly expire: (id: number) => void,
  ) {}

  /** Adds a request now; returns its deadline (performance.now() time). */
  add(id: number): number {
    if (this.count === this.ids.length) this.grow()
    this.ids[(this.head + this.count) & (this.ids.length - 1)] = id
    this.count++
    const at = performance.now() + this.ms
    if (this.timer === null) this.arm(at)
    return at
  }

  /** Requests waiting in the queue, answered ones included until they reach its head. */
  get size(): number {
    return this.count
  }

  /** Drops answered requests from the head (cheap: call after each answer). */
  trim(): void {
    while (this.count > 0 && this.due(this.ids[this.head]!) === 0) this.shift()
  }

  /** Stops the timer (shutdown). */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private fire(): void {
    this.timer = null
    const now = performance.now()
    while (this.count > 0) {
      const id = this.ids[this.head]!
      const at = this.due(id)
      if (at === 0) {
        this.shift()
        continue
      }
      // Timers may fire a little early (they round to whole milliseconds).
      if (at > now + 1) return this.arm(at)
      this.shift()
      this.expire(id)
    }
  }

  private arm(at: number): void {
    this.armedFor = at
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(at - performance.now())))
    // The requests themselves keep the process alive (their sockets, their instances); a timer
    // left armed for requests answered since must not hold a shutdown for requestMs.
    this.timer.unref()
  }

  private shift(): void {
    this.head = (this.head + 1) & (this.ids.length - 1)
    this.count--
  }

  private grow(): void {
    const next = new Float64Array(this.ids.length * 2)
    for (let i = 0; i < this.count; i++) next[i] = this.ids[(this.head + i) & (this.ids.length - 1)]!
    this.ids = next
    this.head = 0
  }

  /** When the timer is due (0: none armed); for tests. */
  get nextDueAt(): number {
    return this.timer === null ? 0 : this.armedFor
  }
}

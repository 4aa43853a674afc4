/**
 * Queues messages posted during one turn of the event loop and sends them as one array.
 * Used on both sides of every instance: the dispatcher's per-instance outbox, and the
 * instance's outbox to the dispatcher. Transfer lists are merged with the batch.
 *
 * @example
 * ```ts
 * const outbox = new Outbox((batch, transfer) => worker.postMessage(batch, transfer))
 * outbox.post({ type: 'abort', id: 7 })
 * outbox.flush() // before the thread exits, so nothing queued is lost
 * ```
 */
export class Outbox<T> {
  private queue: T[] = []
  private transfer: ArrayBuffer[] = []
  private scheduled = false

  constructor(private readonly send: (batch: T[], transfer: ArrayBuffer[]) => void) {}

  post(message: T, transfer?: readonly ArrayBuffer[]): void {
    this.queue.push(message)
    if (transfer) for (const item of transfer) this.transfer.push(item)
    if (!this.scheduled) {
      this.scheduled = true
      // setImmediate, not a microtask: it runs after every I/O callback of this turn, so one
      // batch gathers the requests of all connections that were readable together.
      setImmediate(() => this.flush())
    }
  }

  /** Sends what is queued now. */
  flush(): void {
    this.scheduled = false
    if (this.queue.length === 0) return
    const batch = this.queue
    const transfer = this.transfer
    this.queue = []
    this.transfer = []
    this.send(batch, transfer)
  }

  /** Drops what is queued (the receiver is gone). */
  clear(): void {
    this.queue = []
    this.transfer = []
  }
}

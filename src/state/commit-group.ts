/**
 * Group commit: gathers the commits asked for during one turn of the event loop and hands them
 * to `run` together, so a store that pays per transaction (an fsync, a WAL frame, a lock) pays
 * once per turn instead of once per request. `run` returns one result per item, in order; a
 * throw from `run` (the transaction failed, so nothing was applied) rejects them all.
 *
 * @example
 * ```ts
 * const group = new CommitGroup<Job, Result>((jobs) => db.transaction(() => jobs.map(apply)).immediate())
 * const result = await group.add(job) // settled after the turn's single transaction
 * ```
 */
export class CommitGroup<T, R> {
  private pending: { item: T; resolve: (result: R) => void; reject: (err: unknown) => void }[] = []
  private scheduled = false

  constructor(private readonly run: (items: T[]) => R[]) {}

  /** Number of items waiting for the next flush. */
  get size(): number {
    return this.pending.length
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        // setImmediate, not a microtask: it runs after every I/O callback of this turn, so the
        // commits of all requests that finished together share one transaction.
        setImmediate(() => this.flush())
      }
    })
  }

  /** Runs what is pending now (also used by close, so nothing asked for is dropped). */
  flush(): void {
    this.scheduled = false
    if (this.pending.length === 0) return
    const batch = this.pending
    this.pending = []
    let results: R[]
    try {
      results = this.run(batch.map((entry) => entry.item))
    } catch (err) {
      for (const entry of batch) entry.reject(err)
      return
    }
    batch.forEach((entry, i) => entry.resolve(results[i]!))
  }
}

import type { Job } from './job.js'

interface Lane {
  running: Job | null
  waiting: { job: Job; run: () => void }[]
}

/**
 * Re-runs after commit conflicts go one at a time per contended key. Optimistic concurrency
 * alone livelocks under heavy contention: a hundred requests incrementing one counter all read
 * version 7, one commits, ninety-nine conflict, re-run together, and again only one wins. In a
 * lane the re-runs take turns (as Rx re-executes a failing request alone), so each is likely to
 * win; first attempts are never held back, so requests that do not conflict pay nothing (but
 * while a re-run holds a key, their commits writing it are refused: see `heldBy`).
 *
 * A job leaves its lane when it finishes in any way (`release`, called from the dispatcher's
 * finish) or when it conflicts again and re-enters.
 *
 * @example
 * ```ts
 * lanes.enter(job, 's:counter', () => dispatcher.dispatch(job))
 * // ... later, when the job is answered or fails:
 * lanes.release(job)
 * ```
 */
export class ConflictLanes {
  private readonly lanes = new Map<string, Lane>()

  /** Jobs in a lane now, running or waiting (for diagnostics and tests). */
  get size(): number {
    let n = 0
    for (const lane of this.lanes.values()) n += lane.waiting.length + (lane.running ? 1 : 0)
    return n
  }

  /**
   * A key among `keys` whose lane is running a re-run other than `job`. Committing a write to it
   * now would make that re-run conflict again, so such a commit is refused instead (the older
   * request wins, as in wound-wait): a request in its turn can only be beaten by commits already
   * under way, and heavy contention still makes progress.
   */
  heldBy(keys: readonly { key: string }[], job: Job): string | null {
    if (this.lanes.size === 0) return null
    for (const { key } of keys) {
      const running = this.lanes.get(key)?.running
      if (running && running !== job) return key
    }
    return null
  }

  /** Queues `job` in the lane of `key`; `run` is called when its turn comes. */
  enter(job: Job, key: string, run: () => void): void {
    this.release(job)
    let lane = this.lanes.get(key)
    if (!lane) {
      lane = { running: null, waiting: [] }
      this.lanes.set(key, lane)
    }
    job.lane = key
    lane.waiting.push({ job, run })
    if (!lane.running) this.next(key, lane)
  }

  /** Takes `job` out of its lane, if it is in one; the next waiting job gets its turn. */
  release(job: Job): void {
    const key = job.lane
    if (key === null) return
    job.lane = null
    const lane = this.lanes.get(key)
    if (!lane) return
    if (lane.running === job) {
      lane.running = null
      // Not synchronously: release runs inside the dispatcher's finish().
      queueMicrotask(() => this.next(key, lane))
    } else {
      const index = lane.waiting.findIndex((entry) => entry.job === job)
      if (index >= 0) lane.waiting.splice(index, 1)
    }
  }

  private next(key: string, lane: Lane): void {
    if (lane.running) return
    let turn: { job: Job; run: () => void } | undefined
    while ((turn = lane.waiting.shift())) {
      if (turn.job.done || turn.job.lane !== key) continue
      lane.running = turn.job
      turn.run()
      return
    }
    if (this.lanes.get(key) === lane) this.lanes.delete(key)
  }
}

/** Buckets of the sliding window: it moves a tenth of its length at a time. */
const BUCKETS = 10

/** Answers remembered, for the search of a request that corrupted the instance (a power of two). */
const RECENT = 32

/**
 * What one instance answered (issue 16.2): how many of its answers were 5xx in a row and within a
 * sliding window, and its last answers with the request each one answered (an opaque entry, for
 * src/components/corrupter-search.ts). Recording an answer is a few increments and a slot write,
 * with no clock read: the window moves when `rotate` is called (a timer, a tenth of the window).
 *
 * @example
 * ```ts
 * instance.answers.record(500, job)
 * instance.answers.consecutive // 1
 * instance.answers.rotate() // every windowMs / 10
 * ```
 */
export class AnswerTally {
  /** Answers of 500 or more in a row, up to the last one. */
  consecutive = 0
  private readonly totals = new Int32Array(BUCKETS)
  private readonly failures = new Int32Array(BUCKETS)
  private bucket = 0
  private readonly entries: unknown[] = new Array<unknown>(RECENT).fill(null)
  private readonly statuses = new Int16Array(RECENT)
  /** Answers recorded so far (the next slot is `count & (RECENT - 1)`). */
  private count = 0

  /** One answer with `status`; `entry` is what it answered (null: unknown). */
  record(status: number, entry: unknown): void {
    this.totals[this.bucket]!++
    if (status >= 500) {
      this.failures[this.bucket]!++
      this.consecutive++
    } else {
      this.consecutive = 0
    }
    const slot = this.count++ & (RECENT - 1)
    this.entries[slot] = entry
    this.statuses[slot] = status
  }

  /** Moves the window on by a bucket: the oldest tenth is forgotten. */
  rotate(): void {
    this.bucket = (this.bucket + 1) % BUCKETS
    this.totals[this.bucket] = 0
    this.failures[this.bucket] = 0
  }

  /** Answers, and 5xx answers, within the window. */
  window(): { total: number; failed: number } {
    let total = 0
    let failed = 0
    for (let i = 0; i < BUCKETS; i++) {
      total += this.totals[i]!
      failed += this.failures[i]!
    }
    return { total, failed }
  }

  /** The last answers (at most 32), oldest first. */
  recent(): { entry: unknown; status: number }[] {
    const out: { entry: unknown; status: number }[] = []
    for (let n = Math.max(0, this.count - RECENT); n < this.count; n++) {
      const slot = n & (RECENT - 1)
      out.push({ entry: this.entries[slot], status: this.statuses[slot]! })
    }
    return out
  }
}

/**
 * The budget of request-body bytes buffered across every connection (`limits.bufferedBodyMb`).
 * Bodies are held whole in the main thread until their response is sent (they are kept for
 * re-serving), so without a cap across connections many large bodies arriving at once are
 * a memory bomb: 200 connections each sending 10 MiB took the runtime from 161 MB to 2.16 GB
 * of RSS (issue 15). A body that does not fit waits, unread, until others are done.
 */

/** One request's share of the budget; see {@link BodyBudget.lease}. */
export interface BodyLease {
  /** Bytes this request holds. */
  readonly held: number
  /**
   * Asks for `bytes` more. Returns true when they were taken at once; otherwise the request
   * waits and `granted` runs once they have been taken (never if `release` comes first).
   */
  grow(bytes: number, granted: () => void): boolean
  /** Gives back what is held and drops a pending wait. Idempotent. */
  release(): void
}

interface Waiter {
  bytes: number
  /** Counts the bytes as held by its lease and returns the callback to run. */
  take: () => () => void
}

/**
 * A counter of buffered body bytes with a waiting list. Waiters are served first-fit in
 * arrival order, so a small body is not held behind a large one waiting for room (a few
 * clients holding large bodies open must not block every small POST); a large one may be
 * overtaken, but none waits past `timeouts.bodyMs`, which the reader enforces.
 *
 * @example
 * ```ts
 * const budget = new BodyBudget(256 * 1024 * 1024)
 * const lease = budget.lease()
 * if (!lease.grow(contentLength, () => startReading())) pauseUntilGranted()
 * res.once('close', () => lease.release())
 * ```
 */
export class BodyBudget {
  private used = 0
  private readonly waiters = new Set<Waiter>()

  constructor(
    /** The most body bytes held at once. */
    readonly totalBytes: number,
    /** Called when a request starts waiting while nobody else was (once per saturation). */
    private readonly onFull: (used: number) => void = () => {},
  ) {}

  /** Bytes held by all requests. */
  get usedBytes(): number {
    return this.used
  }

  /** Requests waiting for room. */
  get waiting(): number {
    return this.waiters.size
  }

  /** A new, empty share of the budget for one request. */
  lease(): BodyLease {
    let held = 0
    let waiter: Waiter | null = null
    let released = false
    return {
      get held() {
        return held
      },
      grow: (bytes, granted) => {
        if (released) return false
        if (this.used + bytes <= this.totalBytes) {
          this.used += bytes
          held += bytes
          return true
        }
        waiter = {
          bytes,
          take: () => {
            waiter = null
            held += bytes
            // A callback granted with others may release this lease before its turn comes.
            return () => {
              if (!released) granted()
            }
          },
        }
        if (this.waiters.size === 0) this.onFull(this.used)
        this.waiters.add(waiter)
        return false
      },
      release: () => {
        if (released) return
        released = true
        if (waiter) this.waiters.delete(waiter)
        waiter = null
        this.give(held)
        held = 0
      },
    }
  }

  private give(bytes: number): void {
    if (bytes === 0) return
    this.used -= bytes
    // Callbacks run after the scan: one may read a chunk and grow or release its lease, and
    // the scan must not see the waiting list change under it.
    const granted: (() => void)[] = []
    for (const waiter of this.waiters) {
      if (this.used + waiter.bytes > this.totalBytes) continue
      this.waiters.delete(waiter)
      this.used += waiter.bytes
      granted.push(waiter.take())
      if (this.used >= this.totalBytes) break
    }
    for (const run of granted) run()
  }
}

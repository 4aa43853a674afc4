/**
 * Tells a never-resolving request from a slow one without waiting for its deadline (issue 9.4).
 *
 * A handler that awaits a promise nobody will ever settle (`await new Promise(() => {})`, a lock
 * whose holder is gone) leaves its event loop idle, and so does one awaiting a slow database.
 * What differs is whether anything is pending that could resume it: the slow one has a socket,
 * a timer or a file request in flight; the hung one has nothing. Plain Node shows the
 * difference itself: with nothing pending, the process would exit. Here the instance's own
 * plumbing (its message port, its channel) keeps the loop alive, so the watch compares what is
 * active (`process.getActiveResourcesInfo()`) with what was active before the app was loaded.
 *
 * Only sacrificial instances watch (`watch-quiet`): they run one signature's trial, nothing
 * else of the app's traffic, so "every request here is stuck" names its culprit. The watch errs
 * towards "not quiet": any handle the app opened at load (a connection pool, an interval) counts
 * as pending, and the request then waits for its deadline as before. What it cannot see: a
 * request resumed only by an unref'd timer, or by a MessagePort of the app's own (worker
 * isolation), both invisible to `getActiveResourcesInfo`; such a request would be judged
 * never-resolving. A store read in flight is crashless's own traffic and counts as pending.
 */

/** Between checks; several quiet checks in a row are needed (see QUIET_CHECKS). */
export const QUIET_CHECK_MS = 100

/**
 * Quiet checks in a row before the report: a moment between two callbacks can look quiet (an
 * immediate about to be queued by a stream's next tick), a few 100 ms apart cannot.
 */
export const QUIET_CHECKS = 3

/** Resource types the instance's own plumbing shows, whatever their count (ports come and go as messages flow). */
const PLUMBING_ANY_COUNT = new Set(['MessagePort'])

/** Counts of each resource type active now. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

/**
 * The watch of one instance: `baseline()` before the app loads, `start()` when it becomes
 * sacrificial.
 *
 * @example
 * ```ts
 * const quiet = new QuietWatch(() => [...active.keys()], () => storeClient.outstanding, (ids) => post({ type: 'quiet', ids }))
 * quiet.baseline() // before loadApp
 * case 'watch-quiet': quiet.start(); break
 * ```
 */
export class QuietWatch {
  private plumbing = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private streak = 0
  private readonly reported = new Set<number>()

  constructor(
    /** The requests the instance holds (started, not answered). */
    private readonly held: () => number[],
    /** Store reads in flight. */
    private readonly outstanding: () => number,
    private readonly report: (ids: number[]) => void,
  ) {}

  /** What the instance's own plumbing keeps active: taken before the app is loaded. */
  baseline(): void {
    this.plumbing = activeResources()
  }

  /** Starts watching (a sacrificial instance); idempotent. */
  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.check(), QUIET_CHECK_MS)
    this.timer.unref()
  }

  /** True when nothing but the plumbing is active and no store read is out. */
  private quiet(): boolean {
    if (this.outstanding() > 0) return false
    for (const [type, count] of activeResources()) {
      if (PLUMBING_ANY_COUNT.has(type)) continue
      if (count > (this.plumbing.get(type) ?? 0)) return false
    }
    return true
  }

  private check(): void {
    const ids = this.held()
    for (const id of this.reported) if (!ids.includes(id)) this.reported.delete(id)
    if (ids.length === 0 || !this.quiet()) {
      this.streak = 0
      return
    }
    if (++this.streak < QUIET_CHECKS) return
    const fresh = ids.filter((id) => !this.reported.has(id))
    if (fresh.length === 0) return
    for (const id of fresh) this.reported.add(id)
    // Every request it holds goes in the report, even those reported already: all are stuck.
    this.report(ids)
  }
}

/**
 * How long (in leases) a route stays apart after one of its requests was quarantined for
 * stalling: its other requests run on sacrificial instances at the lowest priority meanwhile.
 */
const APART_AFTER_STALL_LEASES = 10

/**
 * The routes the recovery ladder holds apart for stalls: those with a trial for a stall open (how
 * many), and for APART_AFTER_STALL_LEASES leases after one of their requests was quarantined for
 * stalling. Without that afterglow, a flood of distinct loops went back to serving instances the
 * moment the last trial ended, and stalled all of them at once (issue 9.2: over a second without a
 * benign answer in bench:poison), before enough of them had failed to put the route behind its
 * bulkhead.
 *
 * @example
 * ```ts
 * const routes = new StallingRoutes(1_000)
 * routes.opened('GET /search')
 * routes.isStalling('GET /search')    // true
 * routes.ended('GET /search', true)   // quarantined: apart for 10 leases more
 * ```
 */
export class StallingRoutes {
  /** Routes with a trial for a stall open, and how many. */
  private readonly open = new Map<string, number>()
  /** Routes with a request quarantined for stalling, until when (performance.now()) they stay apart. */
  private readonly until = new Map<string, number>()

  constructor(
    private readonly leaseMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True while some route may be held apart. */
  get active(): boolean {
    return this.open.size > 0 || this.until.size > 0
  }

  /** A trial for a stall of a request of `route` opened. */
  opened(route: string): void {
    this.open.set(route, (this.open.get(route) ?? 0) + 1)
  }

  /** Such a trial ended; `quarantined`: with the verdict, so the route stays apart a while. */
  ended(route: string, quarantined: boolean): void {
    const left = (this.open.get(route) ?? 1) - 1
    if (left > 0) this.open.set(route, left)
    else this.open.delete(route)
    if (quarantined) this.until.set(route, this.now() + APART_AFTER_STALL_LEASES * this.leaseMs)
  }

  /** True while a request of `route` is on trial for stalling an instance, or was quarantined for it lately. */
  isStalling(route: string): boolean {
    if (this.open.has(route)) return true
    const until = this.until.get(route)
    if (until === undefined) return false
    if (until > this.now()) return true
    this.until.delete(route)
    return false
  }
}

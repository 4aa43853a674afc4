/**
 * Below this, a synchronous stretch is never called abnormal: timer jitter, a GC pause or a
 * descheduled thread on a loaded machine can take that long on their own.
 */
export const STRETCH_FLOOR_MS = 50

/** A stretch is abnormal past this many times its route's longest recent stretch. */
const HEADROOM = 3

/** An instance is ended as stuck past this many times its route's longest recent stretch (or the lease). */
const LEASE_HEADROOM = 5

/** How fast an old long stretch is forgotten: halved every this many ms. */
const HALF_LIFE_MS = 60_000

/** Routes remembered; the least recently seen is forgotten first. */
const MAX_ROUTES = 1_000

interface Norm {
  /** The longest stretch seen lately, decayed since `at`. */
  ms: number
  at: number
}

/**
 * How long each route's handlers usually run synchronously, learned from the stretches the
 * supervisor sees (the lease's beat standing still while one request runs). A stretch far beyond
 * its route's normal is abnormal: the instance is probably stuck in that request, and the
 * requests waiting behind it should move now rather than at half a lease (issue 9, point 3).
 * A route that runs long on purpose (a 200 ms report) learns that and is left alone.
 *
 * @example
 * ```ts
 * const norms = new StretchNorms(1_000)
 * norms.limitMs('GET /report')      // 50: nothing known yet (the floor)
 * norms.record('GET /report', 200)
 * norms.limitMs('GET /report')      // 500: 3 x 200, capped at half a lease
 * norms.leaseMs('GET /report')      // 1000: the lease (5 x 200 is no more)
 * ```
 */
export class StretchNorms {
  private readonly norms = new Map<string, Norm>()

  constructor(
    private readonly lease: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A stretch of `ms` ended while a request of `route` ran. */
  record(route: string, ms: number): void {
    const now = this.now()
    const known = this.norms.get(route)
    const current = known ? this.decayed(known, now) : 0
    this.norms.delete(route)
    this.norms.set(route, { ms: Math.max(current, ms), at: now })
    if (this.norms.size > MAX_ROUTES) this.norms.delete(this.norms.keys().next().value as string)
  }

  /**
   * How long a stretch inside a request of `route` may last before it counts as abnormal:
   * `HEADROOM` times the route's normal, at least the floor, at most half a lease (past which
   * any stretch is abnormal). A route never seen running long is held to the floor.
   *
   * Why the floor and not more for a new route: what a suspicion costs is small (its instance
   * takes no new work, and only identical requests, same signature, wait for the suspect; a
   * route's first long request teaches it its normal), and a late one is dear. With an eighth of
   * a lease (125 ms of CPU, ~250 ms of wall on a loaded machine), a loop sent every 200 ms had
   * its second copy on another serving instance before the first was suspected: two serving
   * instances spinning beside the probe, and the verdict ~2 s after the first copy (bench:poison,
   * issue 9 point 4 asks 1.5 s). A cleared suspicion is taken back from the route's bulkhead.
   */
  limitMs(route: string | null): number {
    const half = this.lease / 2
    const known = route === null ? undefined : this.norms.get(route)
    if (!known) return Math.min(half, STRETCH_FLOOR_MS)
    return Math.min(half, Math.max(STRETCH_FLOOR_MS, HEADROOM * this.decayed(known, this.now())))
  }

  /**
   * How long a stretch inside a request of `route` may last before its instance is ended as
   * stuck: the lease, or for a route that runs long on purpose `LEASE_HEADROOM` times its normal,
   * so a 300 ms report slowed down by a loaded machine is not taken for a loop.
   */
  leaseMs(route: string | null): number {
    const known = route === null ? undefined : this.norms.get(route)
    return known ? Math.max(this.lease, LEASE_HEADROOM * this.decayed(known, this.now())) : this.lease
  }

  private decayed(norm: Norm, now: number): number {
    return norm.ms * 0.5 ** ((now - norm.at) / HALF_LIFE_MS)
  }
}

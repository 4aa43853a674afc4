import type { Logger } from 'pino'
import { routeOf } from '../immunity/index.js'
import type { Instance } from '../supervise/index.js'
import type { Job } from './job.js'
import { StretchNorms } from './stretch-norms.js'
import type { JobsView } from './job.js'

/** What a stall means beyond its instance: the suspicion and the bulkhead (see poison-guard.ts). */
export interface StallJudge {
  /** A request stalls a serving instance: requests waiting there move; it becomes a suspect (`late`: half a lease). */
  suspect(instance: Instance, requestId: number | null, late: boolean): void
  /** A run of a route apart stalls its sacrificial instance. */
  stalledApart(job: Job): void
}

/**
 * The dispatcher's side of stall detection: how long an instance's beat may stand still while a
 * given request runs (its route's learned normal, see stretch-norms.ts) and the learning itself.
 * The route of a stretch is noted while it lasts, since by the time it ends its request is often
 * answered and gone from the in-flight table.
 *
 * @example
 * ```ts
 * const watch = new StallWatch(jobs, 1_000, guard, log)
 * watch.limitMs(instance, 42)        // 50 (the floor) for a route never seen running long
 * watch.learn(instance, 42, 180)     // that request's route ran 180 ms: its limit grows
 * ```
 */
export class StallWatch {
  private readonly norms: StretchNorms
  /** The route of each instance's current still stretch, noted while it lasts. */
  private readonly stretchRoute = new WeakMap<Instance, string>()
  /** The request each sacrificial instance was last logged stalling in (one debug line per stretch). */
  private readonly apartLogged = new WeakMap<Instance, number>()

  constructor(
    private readonly jobs: JobsView,
    private readonly lease: number,
    private readonly judge: StallJudge,
    private readonly log: Pick<Logger, 'debug'> | null = null,
  ) {
    this.norms = new StretchNorms(lease)
  }

  /**
   * An instance's beat stood still past its limit (`runMs` of CPU so far) while `requestId` (if
   * any) ran synchronously in it: requests waiting there move, and that request becomes a suspect.
   */
  stalled(instance: Instance, requestId: number | null, runMs: number): void {
    this.judge.suspect(instance, requestId, runMs >= this.lease / 2)
  }

  /** A run of a route apart stalls its sacrificial instance: it counts towards the route's bulkhead. */
  stalledApart(instance: Instance, requestId: number): void {
    const job = this.jobs.get(requestId)
    if (!job || job.instance !== instance) return
    // At debug level, once per stretch: that a run alone has started and is past its limit is
    // what a trial's test (or an operator following one) can wait for.
    if (this.log && this.apartLogged.get(instance) !== requestId) {
      this.apartLogged.set(instance, requestId)
      this.log.debug({ event: 'stalled-apart', requestId: job.requestId, instance: instance.id }, 'a run on a sacrificial instance stands still past its limit')
    }
    this.judge.stalledApart(job)
  }

  /**
   * How long `instance` may stand still while `requestId` runs. With no request to go by (a
   * loop started from a timer, handlers run from stream events), half a lease, as before routes
   * were learned.
   */
  limitMs(instance: Instance, requestId: number | null): number {
    const job = requestId === null || requestId <= 0 ? undefined : this.jobs.get(requestId)
    if (!job) return this.lease / 2
    return this.norms.limitMs(this.routeOf(instance, job))
  }

  /** The route of the request an instance is still in, noted for `learn`. */
  private routeOf(instance: Instance, job: Job): string {
    const route = routeOf(job)
    this.stretchRoute.set(instance, route)
    return route
  }

  /** How long `instance` may stand still while `requestId` runs before it is ended as stuck. */
  leaseMs(instance: Instance, requestId: number | null): number {
    const job = requestId === null || requestId <= 0 ? undefined : this.jobs.get(requestId)
    return job ? this.norms.leaseMs(this.routeOf(instance, job)) : this.lease
  }

  /** A still stretch ended: its route (noted while it lasted) learns how long it ran. */
  learn(instance: Instance, requestId: number | null, ms: number): void {
    const route = this.stretchRoute.get(instance)
    this.stretchRoute.delete(instance)
    if (requestId !== null && requestId > 0 && route !== undefined) this.norms.record(route, ms)
  }
}

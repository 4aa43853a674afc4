import type { Instance, Pool } from '../supervise/index.js'
import type { Job } from './job.js'
import { respondError } from './respond-error.js'

/** What placing a job needs from the dispatcher. */
export interface PlacementHost {
  pool(): Pool
  /** Sends a job to this instance (screened again on the way: a verdict may have come while it waited). */
  send(job: Job, instance: Instance): void
  /** (Re)starts a job's deadline: `ms` from now. */
  setDeadline(job: Job, ms: number): void
  /** Ends a job's bookkeeping (the caller answers the client). */
  finish(job: Job): void
}

/**
 * Where jobs with an environment go (recovery ladder runs, isolated suspects, cured signatures,
 * bulkheaded routes): a sacrificial instance fit for the environment, or a wait for one, apart
 * from the ordinary queue, their instances being others, and bounded (`recovery.queue`) so a
 * flood of poison cannot pile up. A job's deadline is its environment's (longer under the
 * `deadline` tweak) and counts from when it reaches its instance; while one starts for it, the
 * start may take `startMs` more.
 */
export class SacrificialQueue {
  private readonly waiting: Job[] = []

  constructor(
    private readonly host: PlacementHost,
    private readonly bound: number,
    private readonly startMs: number,
    /** How long a request of a route run apart may wait for a sacrificial instance. */
    private readonly shedMs: number = Infinity,
  ) {}

  get size(): number {
    return this.waiting.length
  }

  /** Sends the job to a sacrificial instance now, or queues it (refused when the queue is full). */
  place(job: Job): void {
    const instance = this.pick(job)
    if (instance) return this.send(job, instance)
    // A route under attack gets only the capacity set apart for it: a request that cannot start
    // there within `shedMs` is shed (503) rather than left to wait out its deadline.
    this.host.setDeadline(job, job.env!.tweak === 'bulkhead' ? Math.min(this.shedMs, job.env!.deadlineMs + this.startMs) : job.env!.deadlineMs + this.startMs)
    if (this.waiting.length < this.bound) return void this.waiting.push(job)
    this.host.finish(job)
    respondError(job.res, 503, 'CRASHLESS_ERR_OVERLOADED', 'too many requests are waiting for recovery; retry later', job.requestId, { 'retry-after': '1' })
  }

  remove(job: Job): void {
    const index = this.waiting.indexOf(job)
    if (index >= 0) this.waiting.splice(index, 1)
  }

  /** Sends every waiting job that now has an instance, in order; the others keep their place. */
  pump(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const job = this.waiting[i]!
      const instance = job.done ? null : this.pick(job)
      if (job.done || instance) this.waiting.splice(i, 1)
      else i++
      if (instance) this.send(job, instance)
    }
  }

  /** A ready sacrificial instance for the job's environment, or null (one is then started). */
  private pick(job: Job): Instance | null {
    const env = job.env!
    // A route under attack may take many distinct poisons at once, and so may a route run apart
    // while one of its requests is suspected of stalling (a flood of distinct loops): those run
    // at the lowest CPU priority, so they cannot starve serving instances (issue 9.2: at the
    // ordinary one, two sacrificial instances each stuck in a loop took both cores of a 2-core
    // machine, and benign requests in flight went unanswered for over a second). Their leases
    // count CPU time, so a starved run is not judged stalled for want of CPU. One signature's
    // trial runs at the ordinary priority, so its verdict comes within about a lease even on a
    // busy machine, and a confirming run alone is never starved into a false stall.
    return this.host.pool().pickSacrificial({ shape: env, exclusive: env.exclusive, fresh: env.fresh, group: env.group, yields: env.tweak === 'bulkhead' || env.tweak === 'apart' })
  }

  private send(job: Job, instance: Instance): void {
    this.host.setDeadline(job, job.env!.deadlineMs)
    this.host.send(job, instance)
  }
}

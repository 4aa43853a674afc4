import type { Instance, Pool } from '../supervise/index.js'
import type { Job } from './job.js'

/**
 * Jobs waiting for a sacrificial instance (recovery ladder runs, isolated suspects, cured
 * signatures, bulkheaded routes). Apart from the ordinary queue: their instances are others, and
 * their bound (`recovery.queue`) keeps a flood of poison from piling up.
 */
export class SacrificialQueue {
  private readonly waiting: Job[] = []

  constructor(
    private readonly pool: () => Pool,
    private readonly bound: number,
  ) {}

  get size(): number {
    return this.waiting.length
  }

  /** A ready sacrificial instance for the job's environment, or null (one is then started). */
  pick(job: Job): Instance | null {
    const env = job.env!
    return this.pool().pickSacrificial({ shape: env, exclusive: env.exclusive, fresh: env.fresh, group: env.group })
  }

  /** Queues a job; false when the queue is full. */
  push(job: Job): boolean {
    if (this.waiting.length >= this.bound) return false
    this.waiting.push(job)
    return true
  }

  remove(job: Job): void {
    const index = this.waiting.indexOf(job)
    if (index >= 0) this.waiting.splice(index, 1)
  }

  /** Sends every waiting job that now has an instance, in order; the others keep their place. */
  pump(send: (job: Job, instance: Instance) => void): void {
    for (let i = 0; i < this.waiting.length; ) {
      const job = this.waiting[i]!
      const instance = job.done ? null : this.pick(job)
      if (job.done || instance) this.waiting.splice(i, 1)
      else i++
      if (instance) send(job, instance)
    }
  }
}

import type { Job } from './job.js'

/**
 * A bounded FIFO of jobs waiting for an instance. Re-served jobs go to the front: they have
 * already waited once. Array with a moving head, so shift is O(1) amortised.
 */
export class JobQueue {
  private items: Job[] = []
  private head = 0

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head
  }

  /** False when full: the caller answers 503. */
  push(job: Job): boolean {
    if (this.size >= this.capacity) return false
    this.items.push(job)
    return true
  }

  /** Re-served jobs bypass the bound: they were admitted already. */
  pushFront(job: Job): void {
    if (this.head > 0) this.items[--this.head] = job
    else this.items.unshift(job)
  }

  /**
   * Takes out a job that will never run (its client left, its deadline passed), so its place
   * goes to the next request instead of counting against the bound until it is shifted.
   */
  remove(job: Job): boolean {
    const index = this.items.indexOf(job, this.head)
    if (index < 0) return false
    this.items.splice(index, 1)
    return true
  }

  shift(): Job | undefined {
    if (this.head >= this.items.length) return undefined
    const job = this.items[this.head]!
    this.items[this.head++] = undefined as unknown as Job
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return job
  }
}

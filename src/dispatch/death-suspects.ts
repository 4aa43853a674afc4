import type { Job } from './job.js'

/** What the dispatcher does for the lane. */
export interface DeathSuspectsHost {
  /** Puts a job back at the front of the queue, to be screened again. */
  requeue(job: Job): void
  pump(): void
}

/**
 * Suspects of a runtime's death (issue 10.3, Rx one level up): signatures that were in flight
 * when the previous runtime process died, handed over by the keeper. Until a request of a
 * suspect signature completes, suspects run one at a time, whatever their signature: if one of
 * them kills this runtime too, it is the only suspect in flight, so the keeper's count lands on
 * it alone and the innocent suspects, held meanwhile, are not counted a second time. A suspect
 * that completes is cleared (told to the keeper) and requests like it run freely again. The lane
 * is not held longer than `laneMs` by one slow suspect.
 *
 * @example
 * ```ts
 * const suspects = new DeathSuspects(host, 1_000, (records) => keeper.send({ type: 'suspect-cleared', ... }))
 * suspects.adopt([{ signature: 'GET /kill #-', record: 'GET /kill #-' }])
 * if (suspects.holds(job, signature)) return   // waits for the lane
 * ```
 */
export class DeathSuspects {
  /** Suspect signatures, each with the raw records the keeper knows them by. */
  private readonly records = new Map<string, string[]>()
  private runner: Job | null = null
  private runnerSince = 0
  private readonly waiting: Job[] = []
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly host: DeathSuspectsHost,
    private readonly laneMs: number,
    private readonly onCleared: (records: string[]) => void,
  ) {}

  get size(): number {
    return this.records.size
  }

  /** The keeper's suspects, their signatures computed by this runtime. */
  adopt(suspects: readonly { signature: string; record: string }[]): void {
    for (const { signature, record } of suspects) {
      const known = this.records.get(signature)
      if (known) known.push(record)
      else this.records.set(signature, [record])
    }
  }

  /** True when `job` (of `signature`) must wait for the lane; it then waits here. */
  holds(job: Job, signature: string): boolean {
    if (!this.records.has(signature)) return false
    const now = performance.now()
    if (this.runner === null || this.runner === job || this.runner.done || now - this.runnerSince >= this.laneMs) {
      this.runner = job
      this.runnerSince = now
      return false
    }
    this.waiting.push(job)
    // A slow runner gives the lane up after laneMs even if it has not finished.
    this.timer ??= setTimeout(() => this.release(), this.laneMs - (now - this.runnerSince)).unref()
    return true
  }

  /** A request of `signature` completed with the app's answer: not a suspect any more. */
  succeeded(signature: string): void {
    const records = this.records.get(signature)
    if (!records) return
    this.records.delete(signature)
    this.onCleared(records)
  }

  /** `job` ended (answered, failed, or its client left): it no longer runs or waits here. */
  finished(job: Job): void {
    const at = this.waiting.indexOf(job)
    if (at >= 0) this.waiting.splice(at, 1)
    if (this.runner !== job) return
    this.runner = null
    this.release()
  }

  /** Sends the waiting jobs back to be screened, oldest first: the first suspect among them takes the lane. */
  private release(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.waiting.length === 0) return
    if (this.runner && !this.runner.done && performance.now() - this.runnerSince < this.laneMs) return
    this.runner = null
    for (const job of this.waiting.splice(0).reverse()) this.host.requeue(job)
    this.host.pump()
  }
}

import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { computeSignature, ImmunityTable, type ImmunityEntry } from '../immunity/index.js'
import type { Instance, InstanceLoss } from '../supervise/index.js'
import type { Job } from './job.js'
import { respondError } from './respond-error.js'

/** What the guard needs from the dispatcher. */
export interface GuardHost {
  readonly jobs: ReadonlyMap<number, Job>
  /** Ends a job's bookkeeping (the caller answers the client). */
  finish(job: Job): void
  /** Sends a job to an instance now, or queues it. */
  dispatch(job: Job): void
  /** Puts a job back at the front of the queue. */
  requeue(job: Job): void
  /** Dispatches what the queue holds to instances with room. */
  pump(): void
}

/** What `screen` decided for a job about to be admitted or sent. */
export type Screening = { kind: 'run' } | { kind: 'held' } | { kind: 'quarantined'; entry: ImmunityEntry }

/**
 * Keeps poison away from instances (the Rx/SRS ideas of DESIGN.md, ladder levels 0 and 2):
 * blames failures on request signatures and quarantines repeat offenders (the immunity table),
 * holds requests like one that is stalling an instance until it is judged ("suspects"), and
 * moves waiting requests off a stalled instance before its lease expires.
 */
export class PoisonGuard {
  /** Signatures that keep crashing the app, answered without running (see src/immunity). */
  readonly immunity: ImmunityTable
  /** Signatures whose request is stalling an instance now: requests like it wait for the verdict. */
  private readonly suspects = new Map<string, Job[]>()
  /** Which signature is stalling which instance. */
  private readonly stalledBy = new Map<Instance, string>()

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly host: GuardHost,
  ) {
    this.immunity = new ImmunityTable(config.immunity)
  }

  /** Signatures cost a hash, so they are only computed once something has failed. */
  get active(): boolean {
    return this.immunity.size > 0 || this.suspects.size > 0
  }

  /**
   * The check before a job runs, at admission and again right before it reaches an instance: a
   * request admitted before its signature was quarantined or fell under suspicion (queued,
   * evacuated, re-served) must not run after the verdict. A held job waits in the suspect's list.
   */
  screen(job: Job): Screening {
    if (!this.active) return { kind: 'run' }
    const signature = this.signatureOf(job)
    const entry = this.immunity.isQuarantined(signature)
    if (entry) return { kind: 'quarantined', entry }
    const held = this.suspects.get(signature)
    // The probe of a suspicion is the one copy allowed through.
    if (held && job.suspectOf !== signature) {
      job.heldFor = signature
      held.push(job)
      return { kind: 'held' }
    }
    return { kind: 'run' }
  }

  /**
   * The request running synchronously in a stalled instance becomes a suspect: until it is
   * judged (its instance killed and the failure blamed on it, or it completes), requests with
   * its signature are held instead of being sent to healthy instances.
   */
  suspect(instance: Instance, requestId: number | null): void {
    this.evacuate(instance, requestId)
    if (requestId === null) return
    const job = this.host.jobs.get(requestId)
    if (!job || job.instance !== instance || job.suspectOf) return
    const signature = this.signatureOf(job)
    job.suspectOf = signature
    // Remembered per instance too, so the verdict lands even if the suspect's client leaves.
    this.stalledBy.set(instance, signature)
    if (this.suspects.has(signature)) return
    this.suspects.set(signature, [])
    this.log.info({ event: 'suspect', signature, requestId: job.requestId, instance: instance.id }, 'an instance stalled inside this request; holding requests like it')
  }

  /**
   * An attempt lost to another request's blamed fault does not count against this request's
   * attempts (it was not its fault), but such losses are bounded too, so nothing loops forever.
   */
  mayRetry(job: Job, loss: InstanceLoss): boolean {
    if (loss.culprit !== null && job.innocentLosses < this.config.replay.maxAttempts) {
      job.innocentLosses++
      job.attempts--
    }
    return job.attempts < this.config.replay.maxAttempts
  }

  /** Records a failure attributed to a request; enough of them quarantine its signature. */
  blame(job: Job, failure: string): void {
    const suspectOf = job.suspectOf
    job.suspectOf = null
    if (job.instance) this.stalledBy.delete(job.instance)
    this.blameSignature(this.signatureOf(job), failure, job.requestId, suspectOf)
  }

  /**
   * After an instance was lost: if the suspect stalling it left (its client gave up) before the
   * kill, the verdict is still due, on its signature.
   */
  afterLoss(instance: Instance, culprit: string | null, loss: InstanceLoss): void {
    const stalledSignature = this.stalledBy.get(instance)
    this.stalledBy.delete(instance)
    if (stalledSignature && culprit === null && loss.reason === 'lease-expired') {
      this.blameSignature(stalledSignature, 'lease-expired (client gone)', null, stalledSignature)
    }
  }

  /** A job ended; a suspect that completed was not stuck for good: release the others. */
  finished(job: Job): void {
    if (!job.suspectOf) return
    const signature = job.suspectOf
    job.suspectOf = null
    queueMicrotask(() => this.judge(signature, 'cleared'))
  }

  /**
   * A client that gives up proves nothing about its request: keep the suspicion (the verdict
   * comes from stalledBy when the instance is killed); only completion clears it.
   */
  abandoned(job: Job): void {
    job.suspectOf = null
  }

  private blameSignature(signature: string, failure: string, requestId: string | null, suspectOf: string | null): void {
    const quarantined = this.immunity.recordFailure(signature, failure)
    if (suspectOf) this.judge(suspectOf, quarantined || this.immunity.isQuarantined(signature) ? 'quarantined' : 'failed')
    if (quarantined) {
      const entry = this.immunity.isQuarantined(signature)!
      this.log.warn(
        { event: 'quarantined', signature, failures: entry.failures, lastFailure: failure, until: new Date(entry.quarantinedUntil).toISOString(), requestId },
        `signature quarantined after ${entry.failures} failures: ${signature}`,
      )
    }
  }

  /**
   * Requests waiting in a stalled instance cannot progress until it is killed at the end of its
   * lease: re-serve the replayable ones elsewhere now, half a lease early. If the instance
   * recovers after all, it is told to drop them, and whatever it answers is ignored (only the
   * current attempt's answer counts), so a request is answered once; idempotent requests may
   * run twice, which RFC 9110 allows for them.
   */
  private evacuate(instance: Instance, running: number | null): void {
    let moved = 0
    for (const id of instance.inflight) {
      const job = this.host.jobs.get(id)
      if (!job || id === running || job.started || !job.replayable) continue
      instance.inflight.delete(id)
      instance.post({ type: 'abort', id })
      job.instance = null
      job.attempts--
      this.host.requeue(job)
      moved++
    }
    if (moved === 0) return
    this.log.info({ event: 'evacuated', instance: instance.id, moved, running: running === null ? null : (this.host.jobs.get(running)?.requestId ?? null) }, `instance ${instance.id} stalled; re-serving ${moved} waiting request(s) elsewhere`)
    this.host.pump()
  }

  /**
   * The suspect was judged. Poison (quarantined): every held request is refused. Not (yet)
   * poison: the next held request goes alone as the new probe and the others keep waiting;
   * the suspect completed normally: all are released.
   */
  private judge(signature: string, verdict: 'quarantined' | 'failed' | 'cleared'): void {
    const held = this.suspects.get(signature)
    if (!held) return
    const waiting = held.filter((j) => !j.done)
    if (verdict === 'failed' && waiting.length > 0) {
      // Another copy admitted before the suspicion may still be running: wait for its verdict
      // rather than risk a third instance.
      if (this.runningWithSignature(signature)) {
        this.suspects.set(signature, waiting)
        return
      }
      const probe = waiting.shift()!
      this.suspects.set(signature, waiting)
      probe.heldFor = null
      probe.suspectOf = signature
      this.host.dispatch(probe)
      return
    }
    this.suspects.delete(signature)
    for (const job of waiting) {
      job.heldFor = null
      const entry = verdict === 'quarantined' ? this.immunity.isQuarantined(signature) : null
      if (entry) {
        this.host.finish(job)
        respondQuarantined(job, entry)
      } else {
        this.host.dispatch(job)
      }
    }
  }

  /** The job's signature, computed once, with the configured spec. */
  private signatureOf(job: Job): string {
    return (job.signature ??= computeSignature(job, this.config.immunity.signature))
  }

  private runningWithSignature(signature: string): boolean {
    for (const job of this.host.jobs.values()) {
      if (job.instance && !job.done && this.signatureOf(job) === signature) return true
    }
    return false
  }
}

/** Refuses a request whose signature is quarantined. */
export function respondQuarantined(job: Job, entry: ImmunityEntry): void {
  respondError(job.res, 500, 'CRASHLESS_ERR_QUARANTINED', `requests like this one failed ${entry.failures} times and are refused until ${new Date(entry.quarantinedUntil).toISOString()}`, job.requestId)
}


import type { Logger } from 'pino'
import type { RequestCrashedMessage } from '../protocol.js'
import type { Instance, InstanceLoss, Pool } from '../supervise/index.js'
import type { Job } from './job.js'
import type { GuardHost, PoisonGuard } from './poison-guard.js'
import { decideLost, type LadderLimits } from '../recovery/index.js'
import { respondError } from './respond-error.js'

/**
 * What happens to the requests of an instance that failed (ladder levels 0 and 1 of DESIGN.md):
 * a suppressed crash fails its own request only and taints the instance; a lost instance's
 * requests are re-served when that is safe, and answered with a clean JSON error when not; a
 * missed deadline replaces the instance. Replayable requests that failed go to the recovery
 * ladder (see recovery-ladder.ts).
 */
export class InstanceFailures {
  constructor(
    private readonly host: GuardHost,
    private readonly guard: PoisonGuard,
    private readonly pool: () => Pool,
    private readonly log: Logger,
    private readonly requestMs: number,
    private readonly leaseMs: number,
    /** The ladder's bounds, for the decisions in src/recovery. */
    private readonly limits: LadderLimits,
  ) {}

  /**
   * A request outlived its deadline. Slow work or a deadlock: its instance still holds the run,
   * and perhaps a lock it will never release (an async deadlock), so the instance is
   * microrebooted, its other requests finishing first. A replayable request goes on the ladder
   * (a fresh instance, a longer deadline); others get 504. A response already streaming is cut.
   */
  deadline(job: Job): void {
    const instance = job.instance
    if (!instance && job.env?.tweak === 'bulkhead') {
      // It waited half a lease for the capacity set apart for a route under attack. While some of
      // it turns over (an instance starting, one on its way out) it waits on; when all of it is
      // taken (by stuck poison, say) it is shed rather than left to wait out its deadline.
      if (!this.pool().sacrificialFull) return this.host.setDeadline(job, this.leaseMs / 2)
      this.log.warn({ event: 'shed', requestId: job.requestId, method: job.method, url: job.url }, 'a request of a route run apart found no capacity there; shed')
      this.guard.abandoned(job)
      this.host.finish(job)
      return respondError(job.res, 503, 'CRASHLESS_ERR_OVERLOADED', 'the route runs apart after many of its requests failed, and its capacity is taken; retry later', job.requestId, { 'retry-after': '1' })
    }
    const deadlineMs = job.env?.deadlineMs ?? this.requestMs
    if (instance && !job.started) {
      instance.post({ type: 'abort', id: job.id })
      this.host.detach(job)
      this.pool().taint(instance)
      if (job.replayable && this.guard.ladderEnabled) {
        this.log.warn({ event: 'deadline', requestId: job.requestId, instance: instance.id, role: instance.role, method: job.method, url: job.url, deadlineMs, action: 'recovery ladder; instance replaced' }, 'request deadline passed')
        if (this.guard.failed(job, { how: 'deadline', error: null, instance, spent: true })) return
      }
    }
    this.log.warn({ event: 'deadline', requestId: job.requestId, instance: instance?.id, role: instance?.role, method: job.method, url: job.url, deadlineMs, action: job.started ? 'connection closed' : instance ? 'answered 504; instance replaced' : 'answered 504' }, 'request deadline passed')
    // Still waiting (for an instance, or for a verdict): whatever trial it was part of goes on without it.
    if (!instance) this.guard.abandoned(job)
    job.instance?.post({ type: 'abort', id: job.id })
    this.host.finish(job)
    if (job.started) job.res.destroy()
    else respondError(job.res, 504, 'CRASHLESS_ERR_DEADLINE', `the request did not complete within ${deadlineMs} ms`, job.requestId)
  }

  /**
   * A request crashed inside an instance and the error was suppressed there: that request alone
   * fails; the instance finishes its other requests, takes no new ones, and is replaced.
   */
  crashed(instance: Instance, msg: RequestCrashedMessage): void {
    const job = this.host.jobs.get(msg.id)
    const mine = job !== undefined && job.instance === instance && !job.done
    this.log.warn(
      {
        event: 'request-crashed',
        requestId: job?.requestId ?? null,
        instance: instance.id,
        role: instance.role,
        kind: msg.kind,
        error: msg.error,
        method: job?.method,
        url: job?.url,
        action: 'suppressed: only this request failed; instance tainted, replaced by a spare once its other requests finish',
        others: Math.max(0, instance.inflight.size - (mine ? 1 : 0)),
      },
      `request crashed in ${instance.id} (${msg.kind}); suppressed`,
    )
    if (!mine) return this.pool().taint(instance)
    // Out of the instance first, and the instance out of rotation, so no re-run lands there.
    instance.inflight.delete(job.id)
    job.instance = null
    this.pool().taint(instance)
    if (this.guard.failed(job, { how: `crash:${msg.kind}`, error: msg.error, instance, spent: true })) return this.host.pump()
    this.guard.blame(job, `crash:${msg.kind}`, instance.role === 'sacrificial')
    this.host.finish(job)
    if (job.started) job.res.destroy()
    else respondError(job.res, 500, 'CRASHLESS_ERR_HANDLER', 'the request crashed while being handled', job.requestId)
  }

  /**
   * An instance died. Requests that had not started responding are re-served when safe;
   * the request the failure is attributed to, and unsafe ones, get a JSON error.
   */
  lost(instance: Instance, loss: InstanceLoss, swapMs: number): void {
    let reserved = 0
    let failed = 0
    let cut = 0
    let isolated = 0
    let culprit: string | null = null
    const jobs = [...instance.inflight].map((id) => this.host.jobs.get(id)).filter((job): job is Job => job !== undefined && !job.done)
    instance.inflight.clear()
    // Alone on a sacrificial instance (an exclusive run), a run is to blame for whatever happens.
    const blamed = loss.culprit ?? (instance.role === 'sacrificial' && jobs.length === 1 && jobs[0]!.env?.exclusive ? jobs[0]!.id : null)
    const failure = { how: loss.reason, error: loss.error, instance, spent: true }
    for (const job of jobs) {
      job.instance = null
      const blame = blamed === null ? 'nobody' : blamed === job.id ? 'this request' : 'another request'
      const action = decideLost({ started: job.started, replayable: job.replayable, freshRung: job.env?.tweak === 'fresh', attempts: job.attempts, innocentLosses: job.innocentLosses }, blame, this.limits)
      switch (action.do) {
        case 'cut':
          cut++
          this.host.finish(job)
          job.res.destroy()
          break
        case 'blame':
          // A fresh rung's runs share their signature: whichever of them did it, it is theirs.
          culprit = job.requestId
          failed++
          if (this.guard.failed(job, failure)) break
          this.guard.blame(job, loss.reason, instance.role === 'sacrificial')
          this.host.finish(job)
          respondError(job.res, 500, 'CRASHLESS_ERR_HANDLER', 'the request crashed the instance serving it', job.requestId)
          break
        case 'isolate':
          if (this.guard.isolate(job, failure)) {
            isolated++
            break
          }
          failed++
          this.host.finish(job)
          respondError(job.res, 502, 'CRASHLESS_ERR_INSTANCE_LOST', 'the instance serving the request was lost', job.requestId)
          break
        case 're-serve':
          if (action.innocent) {
            job.innocentLosses++
            job.attempts--
          }
          reserved++
          this.host.dispatch(job)
          break
        case 'answer': {
          failed++
          this.host.finish(job)
          const why = action.why === 'attempts used up' ? 'it failed on every attempt' : 'it is not safe to re-run (not idempotent, no idempotency key)'
          respondError(job.res, 502, action.code, `the instance serving the request was lost and ${why}`, job.requestId)
        }
      }
    }
    this.guard.afterLoss(instance, culprit, loss)
    this.log.warn(
      {
        event: 'instance-lost',
        instance: instance.id,
        role: instance.role,
        reason: loss.reason,
        error: loss.error ?? undefined,
        culprit,
        reserved,
        isolated,
        failed,
        cut,
        action: 'replaced by spare',
        swapMs: Number(swapMs.toFixed(3)),
      },
      `instance ${instance.id} lost (${loss.reason}); replaced`,
    )
    this.host.pump()
  }
}

import type { Logger } from 'pino'
import type { AbortedMessage, RequestCrashedMessage } from '../protocol.js'
import { lostTape, type Instance, type InstanceLoss, type Pool } from '../supervise/index.js'
import { historyOf, type Job } from './job.js'
import { neighboursOf, type RunFailure } from './trial.js'
import { AbortedTapes } from './aborted-tapes.js'
import type { GuardHost, PoisonGuard } from './poison-guard.js'
import { actionName, decideCrash, decideDeadline, decideLost, unreachable, type LadderLimits } from '../recovery/index.js'
import { respondError } from './respond-error.js'
import { bump, tallies } from '../metrics/index.js'
import { NEVER_RESOLVES } from '../immunity/index.js'

/**
 * Carries out what happens to the requests of an instance that failed (ladder levels 0 and 1 of
 * DESIGN.md, decided by decideCrash, decideDeadline and decideLost in src/recovery): a suppressed
 * crash fails its own request only and taints the instance; a lost instance's requests are
 * re-served when that is safe, and answered with a clean JSON error when not; a missed deadline
 * replaces the instance. A request's own failure, when it may run again, goes to the recovery
 * ladder (see recovery-ladder.ts). Logs carry the action's name in their `action` field.
 */
export class InstanceFailures {
  /** Re-runs that missed their deadline, waiting for their instance's tape (see aborted-tapes.ts). */
  private readonly tapes = new AbortedTapes()

  constructor(
    private readonly host: GuardHost,
    private readonly guard: PoisonGuard,
    private readonly pool: () => Pool,
    private readonly log: Logger,
    private readonly requestMs: number,
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
    const pool = this.pool
    const action = decideDeadline(
      {
        placed: instance !== null,
        get apartFull() {
          return pool().sacrificialFull
        },
      },
      historyOf(job),
      this.limits,
    )
    if (action.do === 'extend') return this.host.setDeadline(job, action.ms)
    tallies.deadlines++
    if (instance) instance.recoveries++
    if (action.do === 'answer' && action.why === 'no capacity apart') {
      // It waited for the capacity set apart for a route under attack, and all of it is taken
      // (by stuck poison, say): shed rather than left to wait out its deadline.
      this.log.warn({ event: 'shed', requestId: job.requestId, method: job.method, url: job.url }, 'a request of a route run apart found no capacity there; shed')
      this.guard.abandoned(job)
      this.host.finish(job)
      return respondError(job.res, action.status, action.code, 'the route runs apart after many of its requests failed, and its capacity is taken; retry later', job.requestId, { 'retry-after': '1' })
    }
    const deadlineMs = job.env?.deadlineMs ?? this.requestMs
    const replaced = instance !== null && !job.started
    // Taken before the job leaves its instance: what ran beside it may be why it never ended.
    const neighbours = instance ? neighboursOf(job, instance.inflight, this.host.jobs) : undefined
    if (replaced) {
      instance.post({ type: 'abort', id: job.id })
      this.host.detach(job)
      this.pool().taint(instance)
    }
    this.log.warn({ event: 'deadline', requestId: job.requestId, instance: instance?.id, role: instance?.role, method: job.method, url: job.url, deadlineMs, action: `${actionName(action)}${replaced ? '; instance replaced' : ''}` }, 'request deadline passed')
    switch (action.do) {
      case 'ladder': {
        const failure: RunFailure = { how: 'deadline', error: null, instance, spent: true, neighbours }
        if (!replaced || !instance.recording) return this.guard.failed(job, failure)
        // A recording instance answers the abort with the run's tape: the ladder hears of the
        // failure once it is in, so even a last rung's incident carries it.
        return this.tapes.wait(job, instance, job.env?.leaseMs, (tape) => {
          if (job.done) return
          this.guard.failed(job, { ...failure, tape })
          this.host.pump()
        })
      }
      case 'answer':
      case 'cut':
        // Still waiting (for an instance, or for a verdict): whatever trial it was part of goes on without it.
        if (!instance) this.guard.abandoned(job)
        job.instance?.post({ type: 'abort', id: job.id })
        this.host.finish(job)
        if (action.do === 'cut') return void job.res.destroy()
        return respondError(job.res, action.status, action.code, `the request did not complete within ${deadlineMs} ms`, job.requestId)
      default:
        return unreachable(action)
    }
  }

  /** A recording instance's answer to an abort: the tape of a re-run that missed its deadline. */
  aborted(instance: Instance, msg: AbortedMessage): void {
    this.tapes.arrived(instance, msg)
  }

  /**
   * A sacrificial instance holds only `ids`, and nothing they could wait for is pending there
   * (src/host/quiet-watch.ts): none of them can ever finish. Runs of a trial for a missed
   * deadline fail at once (`never-resolves`), so the ladder gives its verdict now instead of
   * waiting out the rung's deadline and then a longer one (issue 9.4); the instance is replaced,
   * as after any deadline. Anything else it holds waits for its deadline as before.
   */
  quiet(instance: Instance, ids: readonly number[]): void {
    const jobs: Job[] = []
    for (const id of ids) {
      const job = this.host.jobs.get(id)
      if (job && job.instance === instance && !job.done) jobs.push(job)
    }
    if (jobs.length !== ids.length || !this.guard.neverResolving(jobs)) return
    tallies.deadlines += jobs.length
    instance.recoveries++
    this.pool().taint(instance)
    for (const job of jobs) {
      const neighbours = neighboursOf(job, instance.inflight, this.host.jobs)
      instance.post({ type: 'abort', id: job.id })
      this.host.detach(job)
      this.log.warn({ event: 'never-resolves', requestId: job.requestId, instance: instance.id, role: instance.role, method: job.method, url: job.url, deadlineMs: job.env?.deadlineMs ?? this.requestMs }, 'a re-run waits on nothing that can happen: it will never finish')
      const failure: RunFailure = { how: NEVER_RESOLVES, error: null, instance, spent: true, neighbours }
      if (!instance.recording) {
        this.guard.failed(job, failure)
        continue
      }
      // As after a deadline: a recording instance answers the abort with the run's tape.
      this.tapes.wait(job, instance, job.env?.leaseMs, (tape) => {
        if (job.done) return
        this.guard.failed(job, { ...failure, tape })
        this.host.pump()
      })
    }
  }

  /**
   * A request crashed inside an instance and the error was suppressed there: that request alone
   * fails; the instance finishes its other requests, takes no new ones, and is replaced.
   */
  crashed(instance: Instance, msg: RequestCrashedMessage): void {
    const job = this.host.jobs.get(msg.id)
    const mine = job !== undefined && job.instance === instance && !job.done
    const action = decideCrash(mine ? historyOf(job) : null, this.limits)
    tallies.suppressed++
    instance.recoveries++
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
        action: `${actionName(action)}; instance tainted, replaced by a spare once its other requests finish`,
        others: Math.max(0, instance.inflight.size - (mine ? 1 : 0)),
      },
      `request crashed in ${instance.id} (${msg.kind}); suppressed`,
    )
    if (action.do === 'suppress' || !mine) return this.pool().taint(instance)
    // Out of the instance first, and the instance out of rotation, so no re-run lands there.
    instance.inflight.delete(job.id)
    job.instance = null
    this.pool().taint(instance)
    const failure = { how: `crash:${msg.kind}`, error: msg.error, instance, spent: true, tape: msg.tape, neighbours: neighboursOf(job, instance.inflight, this.host.jobs) }
    switch (action.do) {
      case 'ladder':
        this.guard.failed(job, failure)
        return this.host.pump()
      case 'answer':
      case 'cut': {
        const incidentId = this.guard.blame(job, failure, instance.role === 'sacrificial')
        this.host.finish(job)
        if (action.do === 'cut') return void job.res.destroy()
        return respondError(job.res, action.status, action.code, 'the request crashed while being handled', job.requestId, {}, { incidentId })
      }
      default:
        return unreachable(action)
    }
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
    this.tapes.lost(instance, loss.tapes)
    const jobs = [...instance.inflight].map((id) => this.host.jobs.get(id)).filter((job): job is Job => job !== undefined && !job.done)
    instance.inflight.clear()
    // Alone on a sacrificial instance (an exclusive run), a run is to blame for whatever happens.
    const blamed = loss.culprit ?? (instance.role === 'sacrificial' && jobs.length === 1 && jobs[0]!.env?.exclusive ? jobs[0]!.id : null)
    const failure = { how: loss.reason, error: loss.error, instance, spent: true }
    const blamedJob = blamed === null ? undefined : jobs.find((job) => job.id === blamed)
    for (const job of jobs) {
      job.instance = null
      // A copy of the blamed request (same signature) is that request: it waits for the trial's
      // verdict rather than being re-served as innocent, which cost bench:poison's repeated oom a
      // fourth instance (two copies that had joined a `fresh` rung went on to another one).
      const own = blamed === job.id || (blamedJob !== undefined && this.guard.isCopy(job, blamedJob))
      const action = decideLost(historyOf(job), blamed === null ? 'nobody' : own ? 'this request' : 'another request', this.limits)
      switch (action.do) {
        case 'cut':
          cut++
          this.host.finish(job)
          job.res.destroy()
          break
        case 'ladder':
          // A fresh rung's runs share their signature: whichever of them did it, it is theirs.
          culprit = job.requestId
          failed++
          // The tape it sent as it died, or else what it streamed before it ended its instance.
          this.guard.failed(job, { ...failure, tape: lostTape(loss, job.id), neighbours: neighboursOf(job, jobs.map((j) => j.id), this.host.jobs) })
          break
        case 'isolate':
          isolated++
          tallies.isolated++
          this.guard.isolate(job, failure)
          break
        case 're-serve':
          if (action.innocent) {
            job.innocentLosses++
            job.attempts--
          }
          reserved++
          tallies.reserved++
          this.host.dispatch(job)
          break
        case 'answer': {
          failed++
          let incidentId: string | null = null
          if (action.blame) {
            culprit = job.requestId
            incidentId = this.guard.blame(job, { ...failure, neighbours: neighboursOf(job, jobs.map((j) => j.id), this.host.jobs) }, instance.role === 'sacrificial')
          }
          this.host.finish(job)
          if (incidentId !== null) respondError(job.res, action.status, action.code, 'the request crashed the instance serving it', job.requestId, {}, { incidentId })
          else {
            const why = action.why === 'attempts used up' ? 'it failed on every attempt' : 'it is not safe to re-run (not idempotent, no idempotency key)'
            respondError(job.res, action.status, action.code, `the instance serving the request was lost and ${why}`, job.requestId)
          }
          break
        }
        default:
          unreachable(action)
      }
    }
    // An orphaned re-run (its client gone) that died with the instance ran beside these.
    this.guard.afterLoss(instance, culprit, loss, neighboursOf(null, jobs.map((j) => j.id), this.host.jobs))
    bump(tallies.instancesLost, loss.reason)
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

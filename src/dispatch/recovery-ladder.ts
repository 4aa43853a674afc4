import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { classifyFailure, environmentFor, NEVER_RESOLVES, TWEAKS, type Environment, type ImmunityTable, type Tweak } from '../immunity/index.js'
import type { IncidentStore, NeighbourDraft } from '../incidents/index.js'
import { lostTape, type InstanceLoss } from '../supervise/index.js'
import { adoptable, decideFailedRun, decideSuccess, freshRungOpen, limitsOf, nextRung, unreachable, type ActionOf } from '../recovery/index.js'
import type { Job } from './job.js'
import { respondError, respondQuarantined } from './respond-error.js'
import { bump, tallies } from '../metrics/index.js'
import { copiesRunning, openTrial, recordFailure, toIncident, type RunFailure, type Trial } from './trial.js'
import { StallingRoutes } from './stalling-routes.js'
import type { JobsView } from './job.js'

/** What the ladder needs from the dispatcher. */
export interface LadderHost {
  readonly jobs: JobsView
  /** Ends a job's bookkeeping (the caller answers the client). */
  finish(job: Job): void
  /** Screens a job again and sends it where it belongs now (a cure's environment, say). */
  dispatch(job: Job): void
  /** Sends a job to a sacrificial instance for its `env` (or queues it), with the env's deadline. */
  place(job: Job): void
}

/**
 * Carries out the recovery ladder (Rx, DESIGN.md level 2), as decided by decideFailedRun,
 * nextRung, freshRungOpen, adoptable and decideSuccess in src/recovery: this class keeps the
 * trials, their timers and held requests, and logs. A replayable request that failed is re-run on
 * sacrificial instances under tweaked environments, cheapest first and only those that can cure
 * its kind of failure; requests with its signature are held meanwhile. The first tweak that
 * cures it answers the client and is remembered for the signature, so the next request goes
 * straight there. When no tweak cures it, or it has cost `immunity.maxCrashes` instances, or
 * `recovery.budgetMs` has passed, the signature is quarantined and the client gets a JSON error
 * with the incident id. Suspects of a failure nobody could be blamed for are re-run alone on
 * sacrificial instances: the culprit fails there again, the innocent are answered normally.
 */
export class RecoveryLadder {
  private readonly trials = new Map<string, Trial>()
  /** `reorder` runs waiting for the requests they ran beside to finish. */
  private readonly reordering: Job[] = []
  /** Routes held apart for a stall on trial or judged lately. */
  private readonly stalling: StallingRoutes
  /** Isolated suspects, with the failure they are suspected of. */
  private readonly isolatedFrom = new WeakMap<Job, RunFailure>()
  /** Trials whose next rung waits for copies running elsewhere (see `advance`). */
  private readonly waitingOnCopies = new Set<Trial>()

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly host: LadderHost,
    private readonly immunity: ImmunityTable,
    private readonly incidents: IncidentStore,
    private readonly signatureOf: (job: Job) => string,
    /** Requests already held for the signature elsewhere (a stalled suspect's) and its running probe, for a new trial. */
    private readonly takeHeld: (signature: string) => { held: Job[]; probe: Job | null },
  ) {
    this.stalling = new StallingRoutes(config.timeouts.leaseMs)
  }

  /** Signatures on trial now. */
  get size(): number {
    return this.trials.size
  }

  /** True while a route may be held apart by the ladder: a stall on trial, or one judged lately. */
  get holdsRoutesApart(): boolean {
    return this.stalling.active
  }

  /** True while a request of `route` is on trial for stalling an instance, or was quarantined for it lately (see stalling-routes.ts). */
  isStalling(route: string): boolean {
    return this.stalling.isStalling(route)
  }

  /**
   * True when `jobs` (all a sacrificial instance holds, reported quiet: host/quiet-watch.ts) are
   * runs of one trial for a missed deadline: nothing of another signature is there to be waited
   * for, so none of them can ever finish.
   */
  neverResolving(jobs: readonly Job[]): boolean {
    if (jobs.length === 0) return false
    const trial = this.trials.get(this.signatureOf(jobs[0]!))
    return trial !== undefined && trial.kind === 'deadline' && jobs.every((job) => job.trialRung > 0 && trial.running.has(job))
  }

  /** The trial of `signature` as `job` sees it, for screening (see src/recovery/screen.ts). */
  view(job: Job, signature: string): 'none' | 'runs it' | 'fresh rung open' | 'judging' {
    const trial = this.trials.get(signature)
    if (!trial) return 'none'
    if (trial.running.has(job)) return 'runs it'
    return this.freshRungOpen(trial) ? 'fresh rung open' : 'judging'
  }

  /** Holds a job whose signature is on trial (`view`: judging) until the verdict. */
  hold(job: Job, signature: string): void {
    job.heldFor = signature
    this.trials.get(signature)!.held.push(job)
  }

  /** A job joins its signature's `fresh` rung (`view`: fresh rung open), taking its environment. */
  join(job: Job, signature: string): void {
    this.joinFresh(this.trials.get(signature)!, job, false)
  }

  /** The environment of a remembered cure (or of a bulkheaded route), for a request about to run. */
  environmentOf(tweak: Environment['tweak']): Environment {
    return this.environment(tweak, this.config.recovery.budgetMs)
  }

  /**
   * A run of `job` failed, and it may run again (src/recovery decided so): the ladder takes it
   * over; it re-runs it or answers it.
   */
  failed(job: Job, failure: RunFailure): void {
    this.takeOver(job, failure)
    // A copy a trial was waiting for may have been this one: its instance is counted now.
    if (this.waitingOnCopies.size > 0) this.resumeWaiting()
  }

  private takeOver(job: Job, failure: RunFailure): void {
    const signature = this.signatureOf(job)
    const quarantined = this.immunity.isQuarantined(signature)
    let trial = this.trials.get(signature)
    const onTrial = trial === undefined ? 'none' : job.trialRung === trial.rung && !trial.rungFailed && trial.running.has(job) ? 'current rung' : 'earlier run'
    const instancesLeft = trial === undefined || trial.kind === 'stall' ? Infinity : this.config.immunity.maxCrashes - spentWith(trial, failure)
    const action = decideFailedRun({ quarantined: quarantined !== null, onTrial, apart: job.env?.tweak === 'bulkhead', freshRungOpen: trial !== undefined && this.freshRungOpen(trial), instancesLeft })
    if (action.do === 'answer') {
      this.host.finish(job)
      return respondQuarantined(job, quarantined!)
    }
    trial ??= this.open(signature, job, failure)
    recordFailure(trial, job.env?.tweak ?? 'original', failure)
    trial.running.delete(job)
    switch (action.do) {
      case 'quarantine':
        return this.poison(trial, job, action.why)
      case 'join':
      case 'hold':
        // A copy that was already running, or a run of a rung that has failed already: it joins
        // a `fresh` rung still going, or waits for the verdict like any request with the signature.
        job.env = null
        job.trialRung = 0
        if (action.do === 'join') return this.joinFresh(trial, job, true)
        job.heldFor = signature
        trial.held.push(job)
        return
      case 'next-rung':
        trial.rungFailed = true
        return this.advance(trial, job)
      default:
        return unreachable(action)
    }
  }

  /**
   * A request in flight on an instance lost for no known reason is a suspect (decideLost,
   * decideEvacuee): it is re-run alone on a sacrificial instance, where a failure can only be its own.
   */
  isolate(job: Job, failure: RunFailure): void {
    this.isolatedFrom.set(job, failure)
    job.env = this.environment('isolate', this.config.recovery.budgetMs)
    job.trialRung = 0
    this.host.place(job)
  }

  /**
   * Runs a request like a suspect alone on a sacrificial instance, as the suspicion's probe (when
   * `mayProbe`): it has not run yet, so even a request that cannot be re-run may go.
   */
  probe(job: Job): void {
    job.env = this.environment('isolate', this.config.recovery.budgetMs)
    job.trialRung = 0
  }

  /** A job was answered with the app's response. */
  succeeded(job: Job): void {
    if (!job.env || job.trialRung === 0) return
    const trial = this.trials.get(this.signatureOf(job))
    if (!trial) return
    const counted = job.trialRung === trial.rung && trial.running.delete(job)
    const action = decideSuccess({ counted, rungFailed: trial.rungFailed, othersRunning: trial.running.size, kind: trial.kind, tweak: trial.tried[trial.tried.length - 1]! })
    switch (action.do) {
      case 'wait':
        return
      case 'cure':
      case 'clear':
        return this.cure(trial, action, trial.tried[trial.tried.length - 1]!, job)
      default:
        return unreachable(action)
    }
  }

  /**
   * A job's client left. If it was the rung's last run and still runs on its sacrificial
   * instance, the rung is judged by that instance: lost within the rung's deadline, the rung
   * failed (see `instanceLost`); otherwise the next held request carries the rung on.
   */
  abandoned(job: Job): void {
    this.unqueue(job)
    if (!job.env || job.trialRung === 0) return
    const trial = this.trials.get(this.signatureOf(job))
    if (!trial || !trial.running.delete(job) || trial.running.size > 0 || trial.rungFailed) return
    const instance = job.instance
    if (instance?.role === 'sacrificial' && trial.orphan === null) {
      const timer = setTimeout(() => {
        trial.orphan = null
        this.carryOn(trial)
      }, (trial.env?.deadlineMs ?? 0) + (trial.env?.leaseMs ?? 0))
      timer.unref()
      trial.orphan = { instance: instance.id, id: job.id, timer }
      return
    }
    this.carryOn(trial)
  }

  /**
   * An instance was lost: if a rung's orphaned run was on it, that rung failed. `neighbours` are
   * the requests that were on the instance; the run's tape is the one of a death it reported
   * (`fatal`), else what it streamed before a stall or its heap ended the instance (`tapes`).
   */
  instanceLost(instance: { id: string }, loss: Pick<InstanceLoss, 'reason' | 'error' | 'fatal' | 'tapes'>, neighbours: NeighbourDraft[] = []): void {
    for (const trial of this.trials.values()) {
      if (trial.orphan?.instance !== instance.id) continue
      const orphan = trial.orphan.id
      clearTimeout(trial.orphan.timer)
      trial.orphan = null
      const tape = lostTape(loss, orphan)
      recordFailure(trial, trial.env?.tweak ?? 'original', { how: loss.reason, error: loss.error, instance, spent: true, tape, neighbours })
      trial.rungFailed = true
      const next = this.nextHeld(trial)
      if (next) this.advance(trial, next)
      else this.poison(trial, null)
      return
    }
  }

  /** Any job ended: `reorder` runs waiting for it may go, and a rung waiting for copies. */
  finished(job: Job): void {
    if (this.waitingOnCopies.size > 0) queueMicrotask(() => this.resumeWaiting())
    if (this.reordering.length === 0) return
    this.unqueue(job)
    for (const waiting of [...this.reordering]) {
      if (waiting.neighbours!.some((id) => this.host.jobs.has(id))) continue
      this.unqueue(waiting)
      this.host.place(waiting)
    }
  }

  /** The rung goes on with the next held request, or the trial ends undecided when none is left. */
  private carryOn(trial: Trial): void {
    if (this.trials.get(trial.signature) !== trial || trial.running.size > 0) return
    const next = this.nextHeld(trial)
    if (!next) {
      this.end(trial)
      return
    }
    trial.tried.pop()
    this.advance(trial, next)
  }

  /** Trials waiting for copies (see `advance`) whose copies are all done carry on. */
  private resumeWaiting(): void {
    for (const trial of [...this.waitingOnCopies]) {
      if (this.trials.get(trial.signature) !== trial) {
        this.waitingOnCopies.delete(trial)
        continue
      }
      if (copiesRunning(trial, this.host.jobs.values(), this.signatureOf) > 0) continue
      this.waitingOnCopies.delete(trial)
      const next = this.nextHeld(trial)
      if (next) this.advance(trial, next)
      else this.end(trial)
    }
  }

  /** The trial is over (`quarantined`: with that verdict). */
  private end(trial: Trial, quarantined = false): void {
    this.waitingOnCopies.delete(trial)
    if (this.trials.get(trial.signature) !== trial) return
    this.trials.delete(trial.signature)
    if (trial.kind === 'stall') this.stalling.ended(trial.route, quarantined)
  }

  private nextHeld(trial: Trial): Job | null {
    const next = trial.held.find((j) => !j.done) ?? null
    trial.held = trial.held.filter((j) => j !== next && !j.done)
    return next
  }

  private open(signature: string, job: Job, failure: RunFailure): Trial {
    const suspected = this.isolatedFrom.get(job)
    const trial = openTrial(signature, classifyFailure(failure.how, failure.error), job)
    this.trials.set(signature, trial)
    if (trial.kind === 'stall') this.stalling.opened(trial.route)
    const suspicion = this.takeHeld(signature)
    trial.held.push(...suspicion.held)
    if (suspicion.probe !== job) trial.adopt = suspicion.probe
    if (suspected) {
      // Its first run died with others on one instance; alone it failed again: the culprit.
      this.isolatedFrom.delete(job)
      recordFailure(trial, 'original', suspected)
      trial.tried.push('exclusive')
      this.log.warn({ event: 'culprit', signature, requestId: job.requestId, failure: failure.how }, 'an isolated suspect failed alone: it is the culprit')
    } else if (job.env && (TWEAKS as readonly string[]).includes(job.env.tweak)) {
      // It ran under the signature's remembered cure, which no longer cures it.
      this.immunity.dropCure(signature)
      trial.tried.push(job.env.tweak as Tweak)
    }
    return trial
  }

  /** Starts the next rung with `probe`, or gives the verdict when none is left or allowed. */
  private advance(trial: Trial, probe: Job): void {
    probe.env = null
    const elapsed = performance.now() - trial.startedAt
    const copies = (): number => copiesRunning(trial, this.host.jobs.values(), this.signatureOf)
    const action = nextRung(
      {
        kind: trial.kind,
        tried: trial.tried,
        spent: trial.spent.size,
        elapsedMs: elapsed,
        neverResolves: trial.lastFailure === NEVER_RESOLVES,
        get copiesRunning() {
          return copies()
        },
      },
      limitsOf(this.config),
    )
    switch (action.do) {
      case 'quarantine':
        return this.poison(trial, probe, action.why)
      case 'rerun':
        return this.rerun(trial, probe, action.tweak, elapsed)
      case 'wait':
        // First in line when the copies are done: their failure may bring the verdict instead.
        probe.heldFor = trial.signature
        trial.held.unshift(probe)
        this.waitingOnCopies.add(trial)
        this.log.info({ event: 'ladder-wait', signature: trial.signature, instancesSpent: trial.spent.size, incidentId: trial.incidentId }, 'copies running elsewhere could spend the last instances: the next rung waits for them')
        return
      default:
        return unreachable(action)
    }
  }

  /** Starts the rung of tweak `next` with `probe` (and, for `fresh`, the requests held like it). */
  private rerun(trial: Trial, probe: Job, next: Tweak, elapsed: number): void {
    trial.tried.push(next)
    trial.rung++
    bump(tallies.reruns, next)
    trial.rungFailed = false
    trial.running.clear()
    const env = { ...this.environment(next, this.config.recovery.budgetMs - elapsed), ...(next === 'fresh' ? { group: `${trial.incidentId}/${trial.rung}` } : {}) }
    trial.env = env
    // A probe runs alone: it is what an `exclusive` rung would run, and a `fresh` one too when
    // its instance had served nothing before it. It is adopted rather than paid for twice.
    const adopted = next === 'exclusive' || next === 'fresh' ? this.adoptProbe(trial, next) : null
    if (adopted) {
      // Already alone on a sacrificial instance: it is this rung's run; the request that failed waits.
      adopted.trialRung = trial.rung
      trial.running.add(adopted)
      probe.heldFor = trial.signature
      trial.held.push(probe)
      this.log.info({ event: 'ladder-step', signature: trial.signature, tweak: next, requestId: adopted.requestId, runs: 1, adopted: true, instancesSpent: trial.spent.size, incidentId: trial.incidentId }, `a probe already runs alone: it is the "${next}" rung`)
      return
    }
    const runs = [probe]
    if (next === 'fresh') {
      runs.push(...trial.held.filter((j) => !j.done))
      trial.held = []
    }
    this.log.info({ event: 'ladder-step', signature: trial.signature, tweak: next, requestId: probe.requestId, runs: runs.length, instancesSpent: trial.spent.size, incidentId: trial.incidentId }, `re-running under tweak "${next}"`)
    for (const run of runs) {
      run.env = env
      run.trialRung = trial.rung
      run.heldFor = null
      trial.running.add(run)
      if (env.afterNeighbours && run.neighbours?.some((id) => this.host.jobs.has(id))) this.reordering.push(run)
      else this.host.place(run)
    }
  }

  /** The suspicion's probe, if it still runs (or waits to run) alone on a sacrificial instance fit for the rung. */
  private adoptProbe(trial: Trial, rung: 'fresh' | 'exclusive'): Job | null {
    const probe = trial.adopt
    trial.adopt = null
    return probe && adoptable(rung, { done: probe.done, tweak: probe.env?.tweak ?? null, instance: probe.instance }) ? probe : null
  }

  /** True while the trial's `fresh` rung takes copies of its signature (see freshRungOpen). */
  private freshRungOpen(trial: Trial): boolean {
    return freshRungOpen({ tweak: trial.env?.tweak ?? null, failed: trial.rungFailed, running: trial.running.size })
  }

  /**
   * The `fresh` rung runs its signature as it would run normally, beside the other requests like
   * it (so a race among them shows), only on a new instance: copies that fail or arrive while it
   * runs join it there (while `freshRungOpen`).
   */
  private joinFresh(trial: Trial, job: Job, place: boolean): void {
    job.env = trial.env
    job.trialRung = trial.rung
    job.heldFor = null
    trial.running.add(job)
    if (place) this.host.place(job)
  }

  /** The rung of `tweak` succeeded: it cures the signature, or (a stall) clears it. */
  private cure(trial: Trial, action: ActionOf<'cure' | 'clear'>, tweak: Tweak, job: Job): void {
    this.end(trial)
    const ms = Math.round(performance.now() - trial.startedAt)
    trial.steps.push({ environment: tweak, outcome: 'cured', atMs: ms })
    const fields = { signature: trial.signature, tweak, requestId: job.requestId, failures: trial.failures, instancesSpent: trial.spent.size, incidentId: trial.incidentId, ms }
    if (action.do === 'clear') {
      // Alone, within the same lease, it finished: the stall was the instance being busy or
      // descheduled, not this request. Nothing to remember: requests like it run as usual.
      this.log.info({ event: 'cleared', ...fields }, `${trial.signature} ran alone within its lease: not a hung request; requests like it run as usual`)
      this.incidents.write(toIncident(trial, 'cleared', null))
    } else {
      this.immunity.recordCure(trial.signature, tweak, trial.lastFailure)
      tallies.cures++
      this.log.info({ event: 'cured', ...fields }, `tweak "${tweak}" cured ${trial.signature}; requests like it run that way from now on`)
      this.incidents.write(toIncident(trial, 'cured', tweak))
    }
    for (const held of trial.held) {
      held.heldFor = null
      if (!held.done) this.host.dispatch(held)
    }
  }

  /** The verdict: quarantined. `job` is the request to answer with it (null when its client left). */
  private poison(trial: Trial, job: Job | null, why: ActionOf<'quarantine'>['why'] | null = null): void {
    this.end(trial, true)
    if (trial.orphan) clearTimeout(trial.orphan.timer)
    const entry = this.immunity.quarantine(trial.signature, trial.lastFailure, trial.failures, trial.incidentId)
    bump(tallies.quarantines, 'ladder')
    this.log.warn(
      {
        event: 'quarantined',
        signature: trial.signature,
        failures: trial.failures,
        lastFailure: trial.lastFailure,
        why,
        tried: trial.tried,
        instancesSpent: trial.spent.size,
        verdictMs: Math.round(performance.now() - trial.startedAt),
        until: new Date(entry.quarantinedUntil).toISOString(),
        requestId: job?.requestId ?? null,
        incidentId: trial.incidentId,
      },
      `no tweak cured ${trial.signature}: quarantined`,
    )
    this.incidents.write(toIncident(trial, 'poison', null))
    if (job) {
      this.host.finish(job)
      respondError(job.res, 500, 'CRASHLESS_ERR_POISON', `the request failed ${trial.failures} times, also under tweaked environments (${trial.tried.join(', ') || 'none'}); requests like it are refused until ${new Date(entry.quarantinedUntil).toISOString()}`, job.requestId, {}, { incidentId: trial.incidentId })
    }
    for (const held of trial.held) {
      if (held.done) continue
      this.host.finish(held)
      tallies.quarantineHits++
      respondQuarantined(held, entry)
    }
  }

  /** A tweak's environment, its deadline cut to what is left of the ladder's budget. */
  private environment(tweak: Environment['tweak'], remainingMs: number): Environment {
    const { limits, timeouts, recovery } = this.config
    const env = environmentFor(tweak, { heapMb: limits.heapMb, stackMb: limits.stackMb, leaseMs: timeouts.leaseMs, requestMs: timeouts.requestMs, heapFactor: recovery.heapFactor, stackFactor: recovery.stackFactor, timeFactor: recovery.timeFactor })
    return { ...env, deadlineMs: Math.max(1, Math.min(env.deadlineMs, Math.round(remainingMs))) }
  }

  private unqueue(job: Job): void {
    const index = this.reordering.indexOf(job)
    if (index >= 0) this.reordering.splice(index, 1)
  }
}

/** Instances the trial's signature has cost once `failure` is counted too. */
function spentWith(trial: Trial, failure: RunFailure): number {
  const id = failure.spent ? failure.instance?.id : undefined
  return trial.spent.size + (id !== undefined && !trial.spent.has(id) ? 1 : 0)
}

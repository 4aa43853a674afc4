import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { classifyFailure, computeSignature, ImmunityTable, routeOf, RouteBulkhead } from '../immunity/index.js'
import { openIncidentStore, type IncidentStore, type NeighbourDraft } from '../incidents/index.js'
import { decideBlame, mayProbe, screen, unreachable, type ScreenFacts } from '../recovery/index.js'
import type { Instance, InstanceLoss } from '../supervise/index.js'
import { evacuate } from './evacuate.js'
import { firstFailureIncident } from './first-failure.js'
import type { Job } from './job.js'
import { RecoveryLadder, type LadderHost } from './recovery-ladder.js'
import { respondQuarantined } from './respond-error.js'
import { bump, refusalSeconds, tallies } from '../metrics/index.js'
import { DeathSuspects } from './death-suspects.js'
import { adoptRuntimeDeaths, type RuntimeDeaths } from './runtime-deaths.js'
import { Suspects } from './suspects.js'
import type { RunFailure } from './trial.js'

/** What the guard needs from the dispatcher. */
export interface GuardHost extends LadderHost {
  /** Puts a job back at the front of the queue. */
  requeue(job: Job): void
  /** Dispatches what the queue holds to instances with room. */
  pump(): void
  /** The job no longer occupies its instance. */
  detach(job: Job): void
  /** Puts a job in the in-flight table (with its deadline and client-gone watch). */
  track(job: Job): void
  /** (Re)starts a job's deadline: `ms` from now. */
  setDeadline(job: Job, ms: number): void
}

/**
 * Keeps poison away from instances (the Rx/SRS ideas of DESIGN.md, ladder levels 0 and 2),
 * executing what src/recovery decides (screen, decideBlame): screens requests before they run,
 * blames failures on request signatures and quarantines repeat offenders (the immunity table),
 * and puts routes with many failing signatures apart (the bulkhead). Requests like one that is
 * stalling an instance wait for its verdict in suspects.ts; the requests waiting in a stalled
 * instance move in evacuate.ts.
 *
 * @example
 * ```ts
 * const guard = new PoisonGuard(config, log, host)
 * if (!guard.stops(job, false)) send(job)     // not quarantined, held, or refused
 * guard.failed(job, { how: 'crash:uncaughtException', error, instance, spent: true })
 * ```
 */
export class PoisonGuard {
  /** Signatures that keep crashing the app, answered without running (see src/immunity). */
  readonly immunity: ImmunityTable
  /** Signatures whose request is stalling an instance now: requests like it wait for the verdict. */
  private readonly suspects: Suspects
  /** Routes whose many distinct failing signatures made them run apart. */
  private readonly bulkhead: RouteBulkhead
  /** Re-runs of failed requests under tweaks, and isolation of suspects (see recovery-ladder.ts). */
  private readonly ladder: RecoveryLadder
  /** Where the ladder's incidents are written. */
  readonly incidents: IncidentStore
  /** Signatures in flight when an earlier runtime died (the keeper's suspects): one at a time. */
  private readonly deathSuspects: DeathSuspects
  private onDeathCleared: (records: string[]) => void = () => {}
  /** The last request whose client left while a serving instance still ran it, per instance. */
  private readonly leftRunning = new WeakMap<Instance, { id: number; signature: string }>()

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly host: GuardHost,
    /** Shared by the dispatchers of every component (null: a table of its own). */
    immunity: ImmunityTable | null = null,
  ) {
    this.immunity = immunity ?? new ImmunityTable(config.immunity)
    this.bulkhead = new RouteBulkhead({ signatures: config.immunity.bulkhead, windowMs: config.immunity.quarantineMs })
    this.incidents = openIncidentStore(config, log)
    this.ladder = new RecoveryLadder(config, log, host, this.immunity, this.incidents, (job) => this.signatureOf(job), (signature) => this.suspects.take(signature))
    this.suspects = new Suspects(config, log, host, this.ladder, this.immunity, (job) => this.signatureOf(job))
    this.deathSuspects = new DeathSuspects(host, config.timeouts.leaseMs, (records) => this.onDeathCleared(records))
  }

  /** What the keeper learned from runtime deaths, adopted by the runtime it promoted (see runtime-deaths.ts). */
  adoptRuntimeDeaths(deaths: RuntimeDeaths, onCleared: (records: string[]) => void): void {
    this.onDeathCleared = onCleared
    adoptRuntimeDeaths(deaths, this.config, this.immunity, this.incidents, this.deathSuspects, this.log)
  }

  /** Signatures cost a hash, so they are only computed once something has failed. */
  get active(): boolean {
    return this.immunity.size > 0 || this.suspects.size > 0 || this.ladder.size > 0 || this.bulkhead.active || this.deathSuspects.size > 0
  }

  /** Routes running apart now (for health reports). */
  get bulkheads(): { route: string; until: number }[] {
    return this.bulkhead.list()
  }

  /**
   * A run of `job` failed with `failure`, and it may run again (decided in src/recovery): the
   * ladder re-runs it under tweaks or gives its verdict.
   */
  failed(job: Job, failure: RunFailure): void {
    this.noteFailure(job, failure)
    this.ladder.failed(job, failure)
  }

  /** A failure of `job`: counted for its route's bulkhead; a suspect it was is judged by it. */
  private noteFailure(job: Job, failure: RunFailure): void {
    this.noteRouteFailure(job)
    if (job.suspectOf) {
      job.suspectOf = null
      if (failure.instance) this.suspects.release(failure.instance as Instance)
    }
  }

  /** True when `jobs`, all a quiet sacrificial instance holds, are runs of one trial for a missed deadline (see RecoveryLadder.neverResolving). */
  neverResolving(jobs: readonly Job[]): boolean {
    return this.ladder.neverResolving(jobs)
  }

  /** A request in flight on an instance lost for no known reason: re-run it alone, elsewhere. */
  isolate(job: Job, failure: RunFailure): void {
    this.ladder.isolate(job, failure)
    // Until it is judged, copies of it arriving meanwhile wait rather than reach (and perhaps
    // kill) a serving instance: a suspicion, lifted when it completes (see `finished`).
    const signature = this.signatureOf(job)
    job.suspectOf = signature
    this.suspects.open(signature, true, job)
  }

  /** A job was answered with the app's response (a ladder run that succeeded cures its signature). */
  succeeded(job: Job): void {
    this.ladder.succeeded(job)
    if (this.deathSuspects.size > 0) this.deathSuspects.succeeded(this.signatureOf(job))
  }

  /**
   * The guard's check, at admission and again right before a job reaches an instance: a request
   * admitted before its signature was quarantined or fell under suspicion (queued, evacuated,
   * re-served) must not run after the verdict (see src/recovery/screen.ts). A held job waits in
   * its trial's or suspect's list (and is tracked, if it was not yet); a quarantined one is
   * refused without running. True when the job was held or refused.
   */
  stops(job: Job, tracked: boolean): boolean {
    if (!this.active) return false
    // A job whose environment is already decided (a ladder run, an isolated suspect) goes there,
    // unless its signature was judged meanwhile: a run re-served after the instance its trial
    // lost would otherwise cost the signature yet another instance after its verdict.
    if (job.env) {
      const judged = this.immunity.size > 0 ? this.immunity.isQuarantined(this.signatureOf(job)) : null
      return judged !== null && this.refuse(job, tracked, this.signatureOf(job), judged)
    }
    const signature = this.signatureOf(job)
    const entry = this.immunity.isQuarantined(signature)
    if (entry === null && this.deathSuspects.holds(job, signature)) {
      if (!tracked) this.host.track(job)
      return true
    }
    const action = screen(this.screenFacts(job, signature, entry !== null))
    switch (action.do) {
      case 'run':
        if (action.env !== null) job.env = this.ladder.environmentOf(action.env)
        return false
      case 'join':
        this.ladder.join(job, signature)
        return false
      case 'probe':
        this.suspects.probe(job, signature)
        return false
      case 'hold':
        if (action.for === 'trial') this.ladder.hold(job, signature)
        else this.suspects.hold(job, signature)
        if (!tracked) this.host.track(job)
        return true
      case 'answer':
        return this.refuse(job, tracked, signature, entry!)
      default:
        return unreachable(action)
    }
  }

  /** Answers a request of a quarantined signature without running it. */
  private refuse(job: Job, tracked: boolean, signature: string, entry: NonNullable<ReturnType<ImmunityTable['isQuarantined']>>): true {
    if (tracked) this.host.finish(job)
    tallies.quarantineHits++
    respondQuarantined(job, entry)
    // From the dispatcher's first sight of the request to its answer written: the "refused in
    // under 1 ms" of DESIGN.md's budgets, measured where the client's network cannot blur it.
    const seconds = (performance.now() - job.receivedAt) / 1000
    refusalSeconds.observe(seconds)
    const ms = Math.round(seconds * 1e6) / 1000
    this.log.info({ event: 'quarantine-hit', requestId: job.requestId, signature, method: job.method, url: job.url, ms }, 'rejected a quarantined request without running it')
    return true
  }

  /** What screening knows of `job`'s signature, looked up only as far as `screen` reads. */
  private screenFacts(job: Job, signature: string, quarantined: boolean): ScreenFacts {
    const { ladder, suspects, immunity, bulkhead, config } = this
    const stalling = (): boolean => this.stalling(job)
    return {
      quarantined,
      get trial() {
        return ladder.view(job, signature)
      },
      get suspicion() {
        const suspicion = suspects.get(signature)
        return suspicion ? { probing: suspicion.probing, probedByIt: job.suspectOf === signature } : null
      },
      get mayProbe() {
        return mayProbe(job, config.recovery)
      },
      get cure() {
        return immunity.cureOf(signature)
      },
      get routeApart() {
        return bulkhead.active && bulkhead.isApart(routeOf(job))
      },
      get routeStalling() {
        return stalling()
      },
    }
  }

  /**
   * The request running synchronously in a stalled instance becomes a suspect: until it is
   * judged (its instance killed and the failure blamed on it, or it completes), requests with
   * its signature are held instead of being sent to healthy instances.
   */
  suspect(instance: Instance, requestId: number | null, late: boolean): void {
    evacuate(instance, requestId, late, this.host, (job, failure) => this.isolate(job, failure), this.config.recovery, this.log)
    if (requestId === null) return
    const job = this.host.jobs.get(requestId)
    if (!job || job.instance !== instance || job.suspectOf || !this.suspects.stalling(instance, job)) return
    // For the route's bulkhead a suspicion counts at once: a flood of distinct loops must not
    // wait a lease per request to be put apart, each one holding a serving instance meanwhile.
    this.noteRouteFailure(job)
    this.log.info({ event: 'suspect', signature: job.suspectOf, requestId: job.requestId, instance: instance.id }, 'an instance stalled inside this request; holding requests like it')
  }

  /**
   * Records a failure attributed to a request that cannot be re-run; enough of them quarantine
   * its signature. A stall counts only when the request ran `alone` on a sacrificial instance:
   * on a serving instance it only makes the signature a suspect, whose next copy is that test.
   * Writes the failure's incident and returns its id, for the client's error to quote.
   */
  blame(job: Job, run: RunFailure, alone: boolean): string {
    this.noteFailure(job, run)
    const failure = run.how
    const suspectOf = job.suspectOf
    job.suspectOf = null
    if (job.instance) this.suspects.release(job.instance)
    const signature = this.signatureOf(job)
    // Not run again: the incident is what this failure saw (identical ones are counted in one).
    const draft = firstFailureIncident(job, signature, run)
    this.incidents.write(draft)
    const action = decideBlame({ kind: classifyFailure(failure), alone })
    switch (action.do) {
      case 'suspect':
        this.suspects.unconfirmed(signature, job.requestId, failure)
        return draft.id
      case 'count':
        this.blameSignature(signature, failure, job.requestId, suspectOf)
        return draft.id
      default:
        return unreachable(action)
    }
  }

  /**
   * After an instance was lost: if the suspect stalling it left (its client gave up) before the
   * kill, the verdict is still due, on its signature.
   */
  afterLoss(instance: Instance, culprit: string | null, loss: InstanceLoss, neighbours: NeighbourDraft[] = []): void {
    this.ladder.instanceLost(instance, loss, neighbours)
    const left = this.leftRunning.get(instance)
    this.leftRunning.delete(instance)
    // Suspected before its client left, or (on a starved machine, where the stall is noticed
    // later) killed inside the request whose client had left: either way that signature's.
    const stalledSignature = this.suspects.release(instance) ?? (left && instance.slotAtKill === (left.id | 0) ? left.signature : null)
    if (!stalledSignature || culprit !== null || loss.reason !== 'lease-expired') return
    // Its client left, so nothing is left to re-run. Alone on a sacrificial instance, the stall
    // was its own; on a serving one, the suspicion stays for the next copy to test alone.
    const action = decideBlame({ kind: classifyFailure(loss.reason), alone: instance.role === 'sacrificial' })
    switch (action.do) {
      case 'count':
        return this.blameSignature(stalledSignature, 'lease-expired (alone; client gone)', null, stalledSignature)
      case 'suspect':
        return this.suspects.unconfirmed(stalledSignature, null, 'lease-expired (client gone)')
      default:
        return unreachable(action)
    }
  }

  /** A job ended; a suspect that completed was not stuck for good: release the others. */
  finished(job: Job): void {
    this.ladder.finished(job)
    this.deathSuspects.finished(job)
    if (!job.suspectOf) return
    const signature = job.suspectOf
    job.suspectOf = null
    // It completed: the stall counted for its route's bulkhead was not a failure after all.
    if (this.bulkhead.active) this.bulkhead.retract(routeOf(job), signature)
    queueMicrotask(() => this.suspects.judge(signature, 'cleared'))
  }

  /**
   * A client that gives up proves nothing about its request: keep the suspicion (the verdict
   * comes from stalledBy when the instance is killed); only completion clears it.
   */
  abandoned(job: Job): void {
    // Its instance may still be running it (a loop does not stop for an abort); if that
    // instance is then killed inside it, the stall is this request's, client or not.
    if (job.instance?.role === 'serving') this.leftRunning.set(job.instance, { id: job.id, signature: this.signatureOf(job) })
    const probeOf = job.env?.tweak === 'isolate' ? job.suspectOf : null
    job.suspectOf = null
    if (probeOf) {
      // A probe's client left. If it still runs alone on its sacrificial instance, what happens
      // to that instance is the verdict (see afterLoss); meanwhile the next copy may probe.
      if (job.instance?.role === 'sacrificial') this.suspects.stalls(job.instance, probeOf)
      queueMicrotask(() => this.suspects.judge(probeOf, 'failed'))
    }
    this.ladder.abandoned(job)
  }

  /**
   * True while a request of the job's route is suspected of stalling a serving instance, or on
   * trial for it: the route's other requests run apart meanwhile. A flood of distinct loops on one
   * route would otherwise cost a serving instance each until five failures close the bulkhead;
   * this way the first one does, and the rest stall sacrificial instances.
   */
  private stalling(job: Job): boolean {
    if (this.suspects.size === 0 && !this.ladder.holdsRoutesApart) return false
    const route = routeOf(job)
    return this.suspects.isRouteSuspected(route) || this.ladder.isStalling(route)
  }

  /**
   * A request of a route run apart (suspected, or under attack) stalls its sacrificial instance:
   * for the bulkhead it counts at once, as on a serving instance, so a flood of distinct loops is
   * put apart for good (and at the lowest priority) without waiting a lease per loop.
   */
  stalledApart(job: Job): void {
    if (job.env?.tweak === 'apart' || job.env?.tweak === 'bulkhead') this.noteRouteFailure(job)
  }

  /** A failing signature on a route; enough distinct ones put the route apart (the bulkhead). */
  private noteRouteFailure(job: Job): void {
    const route = routeOf(job)
    if (!this.bulkhead.recordFailure(route, this.signatureOf(job))) return
    this.log.warn({ event: 'bulkhead', route, signatures: this.config.immunity.bulkhead, requestId: job.requestId }, `many distinct requests to ${route} fail: the route runs on sacrificial instances from now on`)
  }

  private blameSignature(signature: string, failure: string, requestId: string | null, suspectOf: string | null): void {
    const quarantined = this.immunity.recordFailure(signature, failure)
    if (suspectOf) this.suspects.judge(suspectOf, quarantined || this.immunity.isQuarantined(signature) ? 'quarantined' : 'failed')
    if (quarantined) {
      bump(tallies.quarantines, 'threshold')
      const entry = this.immunity.isQuarantined(signature)!
      this.log.warn(
        { event: 'quarantined', signature, failures: entry.failures, lastFailure: failure, until: new Date(entry.quarantinedUntil).toISOString(), requestId },
        `signature quarantined after ${entry.failures} failures: ${signature}`,
      )
    }
  }

  /** True when `job` has `other`'s signature: for recovery, the same request. */
  isCopy(job: Job, other: Job): boolean {
    return this.signatureOf(job) === this.signatureOf(other)
  }

  /** The job's signature, computed once, with the configured spec. */
  private signatureOf(job: Job): string {
    return (job.signature ??= computeSignature(job, this.config.immunity.signature))
  }

}


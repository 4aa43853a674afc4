import { join } from 'node:path'
import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { classifyFailure, computeSignature, ImmunityTable, routeOf, RouteBulkhead } from '../immunity/index.js'
import { IncidentWriter } from '../incidents/index.js'
import { decideBlame, decideEvacuee, decideVerdict, mayProbe, screen, unreachable, type ScreenFacts, type Verdict } from '../recovery/index.js'
import type { Instance, InstanceLoss } from '../supervise/index.js'
import type { Job } from './job.js'
import { RecoveryLadder, respondQuarantined, type LadderHost } from './recovery-ladder.js'
import { Suspicions } from './suspicions.js'
import { takeBackUnstarted } from './take-back.js'
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

/** Where incident files go, relative to the working directory. */
const INCIDENTS_DIR = join('.crashless', 'incidents')

/**
 * Keeps poison away from instances (the Rx/SRS ideas of DESIGN.md, ladder levels 0 and 2),
 * executing what src/recovery decides (screen, decideBlame, decideVerdict, decideEvacuee):
 * blames failures on request signatures and quarantines repeat offenders (the immunity table),
 * holds requests like one that is stalling an instance until it is judged ("suspects"), and
 * moves waiting requests off a stalled instance before its lease expires.
 */
export class PoisonGuard {
  /** Signatures that keep crashing the app, answered without running (see src/immunity). */
  readonly immunity: ImmunityTable
  /** Signatures whose request is stalling an instance now: requests like it wait for the verdict. */
  private readonly suspects: Suspicions
  /** Which signature is stalling which instance. */
  private readonly stalledBy = new WeakMap<Instance, string>()
  /** Routes whose many distinct failing signatures made them run apart. */
  private readonly bulkhead: RouteBulkhead
  /** Re-runs of failed requests under tweaks, and isolation of suspects (see recovery-ladder.ts). */
  private readonly ladder: RecoveryLadder
  /** Where the ladder's incidents are written. */
  readonly incidents: IncidentWriter

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly host: GuardHost,
  ) {
    this.immunity = new ImmunityTable(config.immunity)
    this.suspects = new Suspicions(config.immunity.quarantineMs)
    this.bulkhead = new RouteBulkhead({ signatures: config.immunity.bulkhead, windowMs: config.immunity.quarantineMs })
    this.incidents = new IncidentWriter(INCIDENTS_DIR, log)
    this.ladder = new RecoveryLadder(config, log, host, this.immunity, this.incidents, (job) => this.signatureOf(job), (signature) => this.takeSuspects(signature))
  }

  /** Signatures cost a hash, so they are only computed once something has failed. */
  get active(): boolean {
    return this.immunity.size > 0 || this.suspects.size > 0 || this.ladder.size > 0 || this.bulkhead.active
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
      if (failure.instance) this.stalledBy.delete(failure.instance as Instance)
    }
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
  }

  /**
   * The guard's check, at admission and again right before a job reaches an instance: a request
   * admitted before its signature was quarantined or fell under suspicion (queued, evacuated,
   * re-served) must not run after the verdict (see src/recovery/screen.ts). A held job waits in
   * its trial's or suspect's list (and is tracked, if it was not yet); a quarantined one is
   * refused without running. True when the job was held or refused.
   */
  stops(job: Job, tracked: boolean): boolean {
    // A job whose environment is already decided (a ladder run, an isolated suspect) goes there.
    if (!this.active || job.env) return false
    const signature = this.signatureOf(job)
    const entry = this.immunity.isQuarantined(signature)
    const action = screen(this.screenFacts(job, signature, entry !== null))
    switch (action.do) {
      case 'run':
        if (action.env !== null) job.env = this.ladder.environmentOf(action.env)
        return false
      case 'join':
        this.ladder.join(job, signature)
        return false
      case 'probe':
        this.probe(job, signature)
        return false
      case 'hold':
        if (action.for === 'trial') this.ladder.hold(job, signature)
        else {
          job.heldFor = signature
          this.suspects.get(signature)!.held.push(job)
        }
        if (!tracked) this.host.track(job)
        return true
      case 'answer':
        if (tracked) this.host.finish(job)
        this.log.info({ event: 'quarantine-hit', requestId: job.requestId, signature, method: job.method, url: job.url }, 'rejected a quarantined request without running it')
        respondQuarantined(job, entry!)
        return true
      default:
        return unreachable(action)
    }
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
    this.evacuate(instance, requestId, late)
    if (requestId === null) return
    const job = this.host.jobs.get(requestId)
    if (!job || job.instance !== instance || job.suspectOf) return
    const signature = this.signatureOf(job)
    job.suspectOf = signature
    // Remembered per instance too, so the verdict lands even if the suspect's client leaves.
    this.stalledBy.set(instance, signature)
    if (this.suspects.get(signature)) return
    // It is not alone where it runs, so it proves nothing: the next copy runs alone, at once,
    // on a sacrificial instance, and the verdict can come within about one lease of that.
    this.suspects.open(signature, false, null, true)
    // For the route's bulkhead a suspicion counts at once: a flood of distinct loops must not
    // wait a lease per request to be put apart, each one holding a serving instance meanwhile.
    this.noteRouteFailure(job)
    this.log.info({ event: 'suspect', signature, requestId: job.requestId, instance: instance.id }, 'an instance stalled inside this request; holding requests like it')
  }

  /**
   * Records a failure attributed to a request that cannot be re-run; enough of them quarantine
   * its signature. A stall counts only when the request ran `alone` on a sacrificial instance:
   * on a serving instance it only makes the signature a suspect, whose next copy is that test.
   */
  blame(job: Job, run: RunFailure, alone: boolean): void {
    this.noteFailure(job, run)
    const failure = run.how
    const suspectOf = job.suspectOf
    job.suspectOf = null
    if (job.instance) this.stalledBy.delete(job.instance)
    const signature = this.signatureOf(job)
    const action = decideBlame({ kind: classifyFailure(failure), alone })
    switch (action.do) {
      case 'suspect':
        return this.unconfirmed(signature, job.requestId, failure)
      case 'count':
        return this.blameSignature(signature, failure, job.requestId, suspectOf)
      default:
        return unreachable(action)
    }
  }

  /**
   * After an instance was lost: if the suspect stalling it left (its client gave up) before the
   * kill, the verdict is still due, on its signature.
   */
  afterLoss(instance: Instance, culprit: string | null, loss: InstanceLoss): void {
    this.ladder.instanceLost(instance, loss)
    const stalledSignature = this.stalledBy.get(instance)
    this.stalledBy.delete(instance)
    if (!stalledSignature || culprit !== null || loss.reason !== 'lease-expired') return
    // Its client left, so nothing is left to re-run. Alone on a sacrificial instance, the stall
    // was its own; on a serving one, the suspicion stays for the next copy to test alone.
    const action = decideBlame({ kind: classifyFailure(loss.reason), alone: instance.role === 'sacrificial' })
    switch (action.do) {
      case 'count':
        return this.blameSignature(stalledSignature, 'lease-expired (alone; client gone)', null, stalledSignature)
      case 'suspect':
        return this.unconfirmed(stalledSignature, null, 'lease-expired (client gone)')
      default:
        return unreachable(action)
    }
  }

  /** A job ended; a suspect that completed was not stuck for good: release the others. */
  finished(job: Job): void {
    this.ladder.finished(job)
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
    const probeOf = job.env?.tweak === 'isolate' ? job.suspectOf : null
    job.suspectOf = null
    if (probeOf) {
      // A probe's client left. If it still runs alone on its sacrificial instance, what happens
      // to that instance is the verdict (see afterLoss); meanwhile the next copy may probe.
      if (job.instance?.role === 'sacrificial') this.stalledBy.set(job.instance, probeOf)
      queueMicrotask(() => this.judge(probeOf, 'failed'))
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
    if (this.suspects.size === 0 && this.ladder.size === 0) return false
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

  /** Requests held for a stalled suspect, and its probe, handed to the trial its failure opened. */
  private takeSuspects(signature: string): { held: Job[]; probe: Job | null } {
    return this.suspects.close(signature)
  }

  /**
   * A stall on a serving instance, which a busy or descheduled instance can fake: the failure is
   * recorded but cannot quarantine by itself, and the signature stays suspected, so its next copy
   * runs alone on a sacrificial instance, where a stall is its own and decides.
   */
  private unconfirmed(signature: string, requestId: string | null, failure: string): void {
    this.immunity.recordFailure(signature, failure, false)
    this.log.info({ event: 'suspect', signature, requestId, action: 'the next request like it runs alone on a sacrificial instance' }, 'a stall on a serving instance: not a verdict until it stalls alone')
    this.suspects.open(signature, false, null, true)
    this.judge(signature, 'failed')
  }

  /** Runs `job` as its suspected signature's probe: alone, on a sacrificial instance. */
  private probe(job: Job, signature: string): void {
    this.ladder.probe(job)
    job.suspectOf = signature
    this.suspects.open(signature, true, job)
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
   * lease: move them now. Those it has not started are taken back (the instance will skip them),
   * so they move whatever their method, and run once. Once the stall reaches half a lease
   * (`late`), replayable requests it did start move too: if the instance recovers after all, it
   * is told to drop them and whatever it answers is ignored (only the current attempt's answer
   * counts), so a request is answered once; such a request may run twice, which RFC 9110 allows
   * for idempotent ones.
   */
  private evacuate(instance: Instance, running: number | null, late: boolean): void {
    const unstarted = takeBackUnstarted(instance, this.host.jobs)
    for (const job of [...unstarted].reverse()) this.host.requeue(job)
    let moved = unstarted.length
    let isolated = 0
    for (const id of instance.inflight) {
      const job = this.host.jobs.get(id)
      if (!job) continue
      const action = decideEvacuee({ running: id === running, started: job.started, replayable: job.replayable }, { late, runningKnown: running !== null }, this.config.recovery)
      if (action.do === 'stay') continue
      instance.inflight.delete(id)
      instance.post({ type: 'abort', id })
      job.instance = null
      job.attempts--
      switch (action.do) {
        case 'isolate':
          // Nothing runs synchronously in it, yet it is stuck: one of these waiting requests may
          // have started the loop (from a timer). They are suspects, not innocents.
          this.isolate(job, { how: 'lease-expired', error: null, instance, spent: true })
          isolated++
          break
        case 're-serve':
          this.host.requeue(job)
          moved++
          break
        default:
          unreachable(action)
      }
    }
    if (moved + isolated === 0) return
    this.log.info({ event: 'evacuated', instance: instance.id, moved, isolated, running: running === null ? null : (this.host.jobs.get(running)?.requestId ?? null) }, `instance ${instance.id} stalled; re-serving ${moved + isolated} waiting request(s) elsewhere`)
    this.host.pump()
  }

  /**
   * The suspect was judged. Poison (quarantined): every held request is refused. Not (yet)
   * poison: the next held request goes alone as the new probe and the others keep waiting;
   * the suspect completed normally: all are released.
   */
  private judge(signature: string, verdict: Verdict): void {
    const suspicion = this.suspects.get(signature)
    if (!suspicion) return
    const waiting = suspicion.held.filter((j) => !j.done)
    if (verdict === 'failed') {
      suspicion.held = waiting
      suspicion.probing = false
      suspicion.since = performance.now()
    }
    const { immunity, config } = this
    const copyRunning = (): boolean => this.runningWithSignature(signature)
    const action = decideVerdict(verdict, {
      waiting: waiting.length,
      get copyRunning() {
        return copyRunning()
      },
      get quarantined() {
        return immunity.isQuarantined(signature) !== null
      },
      get mayProbe() {
        return mayProbe(waiting[0]!, config.recovery)
      },
    })
    switch (action.do) {
      case 'wait':
        return
      case 'probe': {
        const probe = waiting.shift()!
        probe.heldFor = null
        if (action.alone) this.probe(probe, signature)
        else {
          // The ladder is off: the probe runs where requests run (it may cost that instance).
          probe.suspectOf = signature
          suspicion.probing = true
        }
        return this.host.dispatch(probe)
      }
      case 'answer':
      case 'release': {
        this.suspects.close(signature)
        const entry = action.do === 'answer' ? this.immunity.isQuarantined(signature) : null
        // Released in the order they arrived: back at the front of the queue, oldest first, and
        // screened again on their way to an instance.
        for (const job of [...waiting].reverse()) {
          job.heldFor = null
          if (entry) {
            this.host.finish(job)
            respondQuarantined(job, entry)
          } else {
            this.host.requeue(job)
          }
        }
        if (!entry && waiting.length > 0) this.host.pump()
        return
      }
      default:
        return unreachable(action)
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


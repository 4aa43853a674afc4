import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import type { ImmunityTable } from '../immunity/index.js'
import { actionName, decideVerdict, mayProbe, unreachable, type Verdict } from '../recovery/index.js'
import type { Instance } from '../supervise/index.js'
import type { Job } from './job.js'
import type { GuardHost } from './poison-guard.js'
import type { RecoveryLadder } from './recovery-ladder.js'
import { respondQuarantined } from './respond-error.js'
import { tallies } from '../metrics/index.js'
import { Suspicions, type Suspicion } from './suspicions.js'

/**
 * The suspects of PoisonGuard: signatures suspected of stalling an instance (or of a loss nobody
 * could be blamed for), the requests held for each, and which signature stalls which instance.
 * A suspicion is not a verdict (src/recovery/suspicion.ts): copies wait while one probe at a time
 * runs alone on a sacrificial instance, and `judge` carries out what decideVerdict says when the
 * suspect completes, fails again, or its signature is quarantined.
 *
 * @example
 * ```ts
 * const suspects = new Suspects(config, log, host, ladder, immunity, signatureOf)
 * suspects.stalling(instance, job)          // held: requests like it wait for the verdict
 * suspects.judge(job.signature!, 'cleared') // it completed: they are released
 * ```
 */
export class Suspects {
  /** Suspicions by signature, with the requests held for each. */
  private readonly map: Suspicions
  /** Which signature is stalling which instance, so the verdict lands even if the suspect's client leaves. */
  private readonly stalledBy = new WeakMap<Instance, string>()

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    private readonly host: GuardHost,
    private readonly ladder: RecoveryLadder,
    private readonly immunity: ImmunityTable,
    private readonly signatureOf: (job: Job) => string,
  ) {
    this.map = new Suspicions(config.immunity.quarantineMs)
  }

  get size(): number {
    return this.map.size
  }

  /** The live suspicion of a signature. */
  get(signature: string): Suspicion | undefined {
    return this.map.get(signature)
  }

  /** True while a request of `route` is suspected (its route's other requests run apart). */
  isRouteSuspected(route: string): boolean {
    return this.map.isRouteSuspected(route)
  }

  /** Opens (or marks as probed again) the suspicion of `signature` (see Suspicions.open). */
  open(signature: string, probing: boolean, probe: Job | null = null, routeWide = false): void {
    this.map.open(signature, probing, probe, routeWide)
  }

  /** Ends a suspicion: its held requests and running probe go to the trial its failure opened. */
  take(signature: string): { held: Job[]; probe: Job | null } {
    return this.map.close(signature)
  }

  /** Holds `job` until its suspected signature is judged. */
  hold(job: Job, signature: string): void {
    job.heldFor = signature
    this.map.get(signature)!.held.push(job)
  }

  /** `signature` stalls `instance` (a suspect running, or a probe whose client left). */
  stalls(instance: Instance, signature: string): void {
    this.stalledBy.set(instance, signature)
  }

  /** The signature that was stalling `instance`, forgotten now. */
  release(instance: Instance): string | undefined {
    const signature = this.stalledBy.get(instance)
    this.stalledBy.delete(instance)
    return signature
  }

  /**
   * The request running synchronously in a stalled instance becomes a suspect: until it is
   * judged (its instance killed and the failure blamed on it, or it completes), requests with
   * its signature are held instead of being sent to healthy instances. True when this opened a
   * suspicion (the caller counts it for the route's bulkhead at once, and logs it).
   */
  stalling(instance: Instance, job: Job): boolean {
    const signature = this.signatureOf(job)
    job.suspectOf = signature
    // Remembered per instance too, so the verdict lands even if the suspect's client leaves.
    this.stalledBy.set(instance, signature)
    if (this.map.get(signature)) return false
    // It is not alone where it runs, so it proves nothing: the next copy runs alone, at once,
    // on a sacrificial instance, and the verdict can come within about one lease of that.
    this.map.open(signature, false, null, true)
    return true
  }

  /**
   * A stall on a serving instance, which a busy or descheduled instance can fake: the failure is
   * recorded but cannot quarantine by itself, and the signature stays suspected, so its next copy
   * runs alone on a sacrificial instance, where a stall is its own and decides.
   */
  unconfirmed(signature: string, requestId: string | null, failure: string): void {
    this.immunity.recordFailure(signature, failure, false)
    this.log.info({ event: 'suspect', signature, requestId, action: `${actionName({ do: 'suspect' })}: the next request like it runs alone on a sacrificial instance` }, 'a stall on a serving instance: not a verdict until it stalls alone')
    this.map.open(signature, false, null, true)
    this.judge(signature, 'failed')
  }

  /** Runs `job` as its suspected signature's probe: alone, on a sacrificial instance. */
  probe(job: Job, signature: string): void {
    this.ladder.probe(job)
    job.suspectOf = signature
    this.map.open(signature, true, job)
  }

  /**
   * The suspect was judged. Poison (quarantined): every held request is refused. Not (yet)
   * poison: the next held request goes alone as the new probe and the others keep waiting;
   * the suspect completed normally: all are released.
   */
  judge(signature: string, verdict: Verdict): void {
    const suspicion = this.map.get(signature)
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
        this.map.close(signature)
        const entry = action.do === 'answer' ? this.immunity.isQuarantined(signature) : null
        // Released in the order they arrived: back at the front of the queue, oldest first, and
        // screened again on their way to an instance.
        for (const job of [...waiting].reverse()) {
          job.heldFor = null
          if (entry) {
            this.host.finish(job)
            tallies.quarantineHits++
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

  private runningWithSignature(signature: string): boolean {
    for (const job of this.host.jobs.values()) {
      if (job.instance && !job.done && this.signatureOf(job) === signature) return true
    }
    return false
  }
}

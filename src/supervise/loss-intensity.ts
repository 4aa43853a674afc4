import { forgetOldRestarts, isIntensityExceeded, type IntensityPolicy } from '../keeper/index.js'
import type { InstanceLoss } from './instance.js'

/** Losses that say nothing about the runtime: the instance was ended on purpose, or by its request. */
const EXPLAINED: ReadonlySet<string> = new Set(['retired', 'start-failed', 'drain-timeout'])

/**
 * OTP's restart intensity for the instances of a runtime (ladder level 3 escalating to level 4):
 * serving instances lost with no request to blame (a crash outside any request, a native
 * fault, a lease expired while nothing ran) are the runtime's problem, not a request's. More
 * than `intensity` of them within `periodMs` and a fresh runtime is worth its cost: the pool
 * asks for one, and the count starts over. Losses a request explains (it is blamed, and goes up
 * the recovery ladder) or that were asked for (retired, drained) do not count.
 *
 * @example
 * ```ts
 * const losses = new LossIntensity({ intensity: 10, periodMs: 60_000 })
 * if (losses.record(loss, performance.now())) escalate()
 * ```
 */
export class LossIntensity {
  private times: number[] = []

  constructor(private readonly policy: IntensityPolicy) {}

  /** Whether `loss` counts: unexplained, on a serving instance that was not being drained. */
  static counts(loss: InstanceLoss, serving: boolean): boolean {
    return serving && loss.culprit === null && !EXPLAINED.has(loss.reason)
  }

  /** Records an unexplained loss at `now`; true when that exceeds the policy (the count then starts over). */
  record(now: number): boolean {
    this.times = [...forgetOldRestarts(this.times, now, this.policy), now]
    if (!isIntensityExceeded(this.times, now, this.policy)) return false
    this.times = []
    return true
  }
}

import type { Logger } from 'pino'
import type { OutlierOptions } from '../config/index.js'
import { bump, tallies } from '../metrics/index.js'
import type { Instance, Pool } from '../supervise/index.js'

/** Why an instance was ejected. */
export type EjectionRule = 'consecutive' | 'rate' | 'health'

/**
 * Ejection of a component's instances for bad answers or failed health checks (issue 16.2): a
 * swap for its spare, as for a crashed instance (Pool.taint: it takes no new work, finishes what
 * it started, and its 5xx answers from then on are re-served, see bad-answers.ts). Bounded:
 * at most `outliers.intensity` ejections within `outliers.periodMs` per component; past it,
 * none until the window has room, logged once (`ejections-spent`), and nothing escalates. So
 * an app that answers 503 on purpose costs at most that many swaps a period, never a storm.
 *
 * @example
 * ```ts
 * const ejections = new Ejections('bids', pool, config.outliers, log)
 * if (decideOutlier({ ...facts, recentEjections: ejections.recent() }, policy).do === 'eject') ejections.eject(instance, 'consecutive', { consecutive: 5 })
 * ```
 */
export class Ejections {
  private times: number[] = []
  /** Instances ejected and still finishing: their 5xx answers are not relayed. */
  private readonly ejected = new WeakSet<Instance>()
  private spentLogged = false

  constructor(
    private readonly component: string,
    private readonly pool: Pool,
    private readonly policy: Required<OutlierOptions>,
    private readonly log: Logger,
  ) {}

  /** Ejections within the period (what `decideOutlier` and `decideHealth` call `recentEjections`). */
  recent(now = performance.now()): number {
    this.times = this.times.filter((at) => now - at < this.policy.periodMs)
    if (this.times.length < this.policy.intensity) this.spentLogged = false
    return this.times.length
  }

  has(instance: Instance): boolean {
    return this.ejected.has(instance)
  }

  /** Swaps `instance` for its spare; `facts` go into the log line. False when it was not serving. */
  eject(instance: Instance, rule: EjectionRule, facts: Record<string, unknown>): boolean {
    if (instance.state !== 'ready' || instance.role !== 'serving') return false
    this.ejected.add(instance)
    this.times.push(performance.now())
    const started = performance.now()
    this.pool.taint(instance)
    bump(tallies.ejections, rule)
    this.log.warn(
      { event: 'ejected', instance: instance.id, rule, ...facts, ejections: this.times.length, action: 'swapped for a spare', swapMs: Number((performance.now() - started).toFixed(3)) },
      `instance ${instance.id} of ${this.component} ejected (${rule === 'health' ? 'failed its health check' : `bad answers: ${rule}`}); a spare took its place`,
    )
    return true
  }

  /** An outlier was found but the bound is reached: said once per period. */
  spent(instance: Instance, rule: string): void {
    if (this.spentLogged) return
    this.spentLogged = true
    this.log.warn(
      { event: 'ejections-spent', instance: instance.id, rule, intensity: this.policy.intensity, periodMs: this.policy.periodMs },
      `${this.component}: ${this.policy.intensity} ejections within ${this.policy.periodMs} ms (outliers.intensity); no more until the window has room: the 5xx may be the app's own`,
    )
  }
}

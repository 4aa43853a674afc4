import type { OutlierOptions } from '../config/index.js'
import type { Dispatcher, Job } from '../dispatch/index.js'
import { decideOutlier } from '../recovery/index.js'
import type { Instance, Pool } from '../supervise/index.js'
import type { Ejections } from './ejections.js'

/**
 * Watches the answers of a component's serving instances (issue 16.2) and carries out
 * decideOutlier (src/recovery/outliers.ts): an instance whose answers are 5xx in a row, or far
 * more often than its siblings', is ejected (ejections.ts). The answer that got it ejected, and
 * any 5xx it gives while it finishes what it holds, are not relayed when their request may run
 * again and nothing of them went out: the request runs again on a healthy instance (the
 * dispatcher's `reserveAnswer`). `onEjected` starts the search for what corrupted it.
 *
 * Per answer this costs a lookup in the in-flight table and a few increments (`record`); the
 * decision runs on 5xx answers only.
 *
 * @example
 * ```ts
 * // the pool's onMessage, for a `response` or `head`:
 * if (watch.answered(instance, msg.id, msg.status)) return // re-served: not relayed
 * dispatcher.handleMessage(instance, msg)
 * ```
 */
export class BadAnswers {
  constructor(
    private readonly pool: Pool,
    private readonly dispatcher: Dispatcher,
    private readonly ejections: Ejections,
    private readonly policy: Required<OutlierOptions>,
    private readonly onEjected: (instance: Instance, probe: Job | null) => void,
  ) {}

  /**
   * An answer with `status` from `instance` to request `id`. True when it is dropped (its
   * request runs again elsewhere): the caller must not relay it.
   */
  answered(instance: Instance, id: number, status: number): boolean {
    if (instance.role !== 'serving') return false
    const job = this.dispatcher.table.get(id)
    instance.answers.record(status, job !== undefined && job.instance === instance ? job : null)
    if (status < 500) return false
    if (this.ejections.has(instance)) return this.dispatcher.reserveAnswer(instance, id)
    if (instance.state !== 'ready') return false
    const { total, failed } = instance.answers.window()
    const verdict = decideOutlier({ consecutive: instance.answers.consecutive, total, failed, siblings: this.siblings(instance), recentEjections: this.ejections.recent() }, this.policy)
    if (verdict.do === 'stay') {
      if (verdict.why === 'ejections spent') this.ejections.spent(instance, 'bad answers')
      return false
    }
    this.ejections.eject(instance, verdict.rule, { consecutive: instance.answers.consecutive, total, failed, siblings: this.siblings(instance) })
    const reserved = this.dispatcher.reserveAnswer(instance, id)
    this.onEjected(instance, job ?? null)
    return reserved
  }

  /** Moves every serving instance's window on by a tenth (a timer, every `windowMs / 10`). */
  rotate(): void {
    for (const instance of this.pool.active) instance.answers.rotate()
  }

  /** The siblings' answers in the window, pooled; null when it has none. */
  private siblings(instance: Instance): { total: number; failed: number } | null {
    let total = 0
    let failed = 0
    let any = false
    for (const sibling of this.pool.active) {
      if (sibling === instance || sibling.role !== 'serving') continue
      any = true
      const window = sibling.answers.window()
      total += window.total
      failed += window.failed
    }
    return any ? { total, failed } : null
  }
}

import type { RuntimeReport } from './keeper-protocol.js'
import type { RuntimeProcess } from './runtime-process.js'

/** How long the admin endpoint's runtime waits for the others' reports: a stuck one is left out. */
const GATHER_MS = 1_000

interface Pending {
  readonly asker: RuntimeProcess
  readonly askerId: number
  readonly waiting: Set<RuntimeProcess>
  readonly reports: RuntimeReport[]
  readonly timer: NodeJS.Timeout
}

/**
 * With several runtimes, one serves the admin endpoint; its `/instances`, `/health` and
 * `/metrics` cover the others too. It asks the keeper (`gather`), the keeper asks every other
 * active runtime (`report-request`) and hands the reports back (`gathered`) once all answered,
 * or after {@link GATHER_MS} with those that did: a scrape never hangs on a runtime in trouble.
 * Ids are the keeper's own, so two runtimes asking at once cannot mix their answers.
 *
 * @example
 * ```ts
 * const gather = new ReportGather()
 * gather.ask(holder, message.id, otherActives)   // on `gather`
 * gather.answer(runtime, message.id, message.report) // on `report`
 * ```
 */
export class ReportGather {
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  /** `asker` wants the reports of `from`, for its gather `askerId`. */
  ask(asker: RuntimeProcess, askerId: number, from: readonly RuntimeProcess[]): void {
    if (from.length === 0) return void asker.send({ type: 'gathered', id: askerId, reports: [] })
    const id = this.nextId++
    const timer = setTimeout(() => this.done(id), GATHER_MS)
    timer.unref()
    this.pending.set(id, { asker, askerId, waiting: new Set(from), reports: [], timer })
    for (const runtime of from) if (!runtime.send({ type: 'report-request', id })) this.gone(runtime)
  }

  /** A report for gather `id` (a late one, after the gather ended, is dropped). */
  answer(runtime: RuntimeProcess, id: number, report: RuntimeReport): void {
    const pending = this.pending.get(id)
    if (!pending?.waiting.delete(runtime)) return
    pending.reports.push(report)
    if (pending.waiting.size === 0) this.done(id)
  }

  /** A runtime ended: nothing more will come from it. */
  gone(runtime: RuntimeProcess): void {
    for (const [id, pending] of this.pending) {
      if (pending.waiting.delete(runtime) && pending.waiting.size === 0) this.done(id)
    }
  }

  private done(id: number): void {
    const pending = this.pending.get(id)
    if (!pending) return
    this.pending.delete(id)
    clearTimeout(pending.timer)
    const reports = [...pending.reports].sort((a, b) => a.slot - b.slot)
    pending.asker.send({ type: 'gathered', id: pending.askerId, reports })
  }
}

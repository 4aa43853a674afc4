import type { ImmunityTable } from '../immunity/index.js'
import type { VerdictMessage } from '../keeper/index.js'
import type { Logger } from '../log.js'

/** The verdicts worth telling; failure counts stay each runtime's own (they reach the store). */
const TOLD: ReadonlySet<string> = new Set(['quarantine', 'cure', 'release'])

/** Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC): comparable between its processes. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/**
 * One immunity table for the runtimes of a keeper (`runtimes` above 1): each verdict this
 * runtime's table reaches (a quarantine, a cure, a release from the admin endpoint) goes to the
 * keeper, which hands it to every other runtime it runs, the standby too; a verdict from another
 * runtime is applied here at once. So a poison learned by one runtime is refused by all, without
 * waiting for the store (which each table still writes, for restarts, and which a promoted runtime
 * re-reads). Applied verdicts call no listener (`adopt`, `applyRelease`), so they are neither
 * written again nor relayed back.
 *
 * @example
 * ```ts
 * const relay = new VerdictRelay(dispatcher.immunity, (m) => process.send!(m), log)
 * // keeper -> runtime 'verdict' messages:
 * relay.receive(message)
 * ```
 */
export class VerdictRelay {
  constructor(
    private readonly table: ImmunityTable,
    send: (message: VerdictMessage) => void,
    private readonly log: Logger,
  ) {
    table.onChange((signature, change) => {
      if (!TOLD.has(change)) return
      const entry = change === 'release' ? null : (table.get(signature) ?? null)
      send({ type: 'verdict', verdict: change as VerdictMessage['verdict'], signature, entry: entry && { ...entry }, at: monotonicMs() })
    })
  }

  /** Another runtime's verdict, relayed by the keeper. */
  receive(message: VerdictMessage): void {
    if (message.verdict === 'release') this.table.applyRelease(message.signature)
    else if (message.entry) this.table.adopt(message.entry)
    else return
    const delayMs = Math.round((monotonicMs() - message.at) * 100) / 100
    this.log.info({ event: 'immunity-relayed', signature: message.signature, verdict: message.verdict, from: message.from, delayMs }, `${message.verdict} of ${message.signature} learned from runtime ${message.from} (${delayMs} ms)`)
  }
}

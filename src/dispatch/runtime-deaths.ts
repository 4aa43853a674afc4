import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { computeSignature, type ImmunityTable } from '../immunity/index.js'
import { createIncidentId, type IncidentStore } from '../incidents/index.js'
import { parseInFlight } from '../in-flight/index.js'
import type { SuspectRecord } from '../keeper/index.js'
import type { DeathSuspects } from './death-suspects.js'
import { bump, tallies } from '../metrics/index.js'

/** What a runtime promoted after a death adopts: the keeper's verdicts and suspects. */
export interface RuntimeDeaths {
  readonly poison: readonly SuspectRecord[]
  readonly suspects: readonly SuspectRecord[]
}

/**
 * Applies what the keeper learned from runtime deaths (issue 10.3): each record in flight at
 * two deaths is quarantined like any poison, with an incident naming the runtime's death as its
 * failure; the others become suspects that run one at a time (death-suspects.ts). Signatures are
 * computed here, with this runtime's `immunity.signature`, from the raw records instances kept.
 *
 * @example
 * ```ts
 * adoptRuntimeDeaths({ poison: [{ record: 'GET /kill #-', deaths: 2 }], suspects: [] }, config, immunity, incidents, suspects, log)
 * ```
 */
export function adoptRuntimeDeaths(deaths: RuntimeDeaths, config: ResolvedConfig, immunity: ImmunityTable, incidents: IncidentStore, suspects: DeathSuspects, log: Logger): void {
  const signatureOf = (line: string): { signature: string; method: string; url: string } | null => {
    const record = parseInFlight(line)
    if (!record) return null
    return { signature: computeSignature({ method: record.method, url: record.url, body: null, bodyHash: record.bodyHash }, config.immunity.signature), method: record.method, url: record.url }
  }
  for (const { record, deaths: count } of deaths.poison) {
    const known = signatureOf(record)
    if (!known) continue
    const incidentId = createIncidentId()
    immunity.quarantine(known.signature, 'runtime-lost', count, incidentId)
    bump(tallies.quarantines, 'runtime-deaths')
    incidents.write({
      id: incidentId,
      at: Date.now(),
      signature: known.signature,
      // Headers and body died with the runtime: the instance kept only what makes the signature.
      request: { requestId: '', method: known.method, url: known.url, rawHeaders: [], body: null, session: false },
      steps: Array.from({ length: count }, () => ({ environment: 'original', outcome: 'failed' as const, failure: 'runtime-lost', atMs: 0 })),
      verdict: 'poison',
      cure: null,
      instancesSpent: 0,
      durationMs: 0,
      kind: 'runtime-lost',
      error: null,
      neighbours: [],
      tape: null,
    })
    log.warn(
      { event: 'quarantined', signature: known.signature, code: 'CRASHLESS_ERR_RUNTIME_LOST', runtimeDeaths: count, tried: [], instancesSpent: 0, incidentId },
      `signature quarantined: in flight at ${count} runtime deaths: ${known.signature}`,
    )
  }
  const adopted = deaths.suspects.flatMap(({ record }) => {
    const known = signatureOf(record)
    return known ? [{ signature: known.signature, record }] : []
  })
  suspects.adopt(adopted)
  if (adopted.length > 0) log.info({ event: 'death-suspects', count: adopted.length }, `${adopted.length} signature(s) in flight at a runtime death run one at a time until each completes once`)
}

import { randomBytes } from 'node:crypto'

/** One thing that happened to the request on its way through the recovery ladder. */
export interface IncidentStep {
  /** `original` for the first run on an ordinary instance, else the environment's tweak. */
  environment: string
  /** `failed`, `cured`, or `innocent` (an isolated suspect that ran fine). */
  outcome: 'failed' | 'cured' | 'innocent'
  /** How it failed (crash kind or loss reason) and the error, when it failed. */
  failure?: string
  error?: { name: string; message: string }
  instance?: string
  /** Ms since the incident began. */
  atMs: number
}

/** The record of one failure and its recovery (DESIGN.md "Incidents"). */
export interface Incident {
  id: string
  /** ISO time of the first failure. */
  at: string
  signature: string
  request: {
    requestId: string
    method: string
    url: string
    /** Headers as received, secrets redacted (see redactHeaders). */
    headers: [string, string][]
    bodyBytes: number
  }
  steps: IncidentStep[]
  /** `cured` (a tweak answered the client; it is applied to the signature from now on), `cleared` (a stall did not recur alone: nothing to cure) or `poison` (quarantined). */
  verdict: 'cured' | 'cleared' | 'poison'
  cure: string | null
  /** Instances the signature cost during this incident. */
  instancesSpent: number
  durationMs: number
}

/**
 * A new incident id: sortable by time, unguessable enough not to collide.
 *
 * @example
 * ```ts
 * createIncidentId() // 'inc-20261122T101500Z-4f9a1c2e'
 * ```
 */
export function createIncidentId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `inc-${stamp}-${randomBytes(4).toString('hex')}`
}

/** Headers never written to an incident: they carry credentials. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])

/**
 * Pairs of a raw header list, with credentials replaced by `[redacted]`.
 *
 * @example
 * ```ts
 * redactHeaders(['Cookie', 'sid=1', 'Accept', '*\/*']) // [['Cookie', '[redacted]'], ['Accept', '*\/*']]
 * ```
 */
export function redactHeaders(rawHeaders: readonly string[]): [string, string][] {
  const pairs: [string, string][] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    pairs.push([name, SECRET_HEADERS.has(name.toLowerCase()) ? '[redacted]' : rawHeaders[i + 1]!])
  }
  return pairs
}

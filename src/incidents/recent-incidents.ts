import type { Incident } from './incident.js'

/** An incident as the dashboard lists it: what was asked, what was decided, where its file is. */
export interface RecentIncident {
  id: string
  /** ISO time of the first failure. */
  at: string
  signature: string
  method: string
  /** The request's URL, cut to 300 characters (a client chose it). */
  url: string
  verdict: Incident['verdict']
  cure: string | null
  /** The failures seen on the way (crash kinds, loss reasons), in order, without repeats. */
  failures: string[]
  instancesSpent: number
  durationMs: number
  path: string
}

const CAPACITY = 50
const ring: RecentIncident[] = []

/**
 * Remembers an incident handed to the incident store (whether or not its file gets
 * written), so the dashboard lists recent incidents without reading the disk. One list per
 * process, bounded.
 *
 * @example
 * ```ts
 * rememberIncident(incident, '.crashless/incidents/inc-….json')
 * ```
 */
export function rememberIncident(incident: Incident, path: string): void {
  const failures: string[] = []
  for (const step of incident.steps) if (step.failure !== undefined && !failures.includes(step.failure)) failures.push(step.failure)
  ring.push({
    id: incident.id,
    at: incident.at,
    signature: incident.signature.slice(0, 300),
    method: incident.request.method,
    url: incident.request.url.slice(0, 300),
    verdict: incident.verdict,
    cure: incident.cure,
    failures: failures.slice(0, 8),
    instancesSpent: incident.instancesSpent,
    durationMs: incident.durationMs,
    path,
  })
  if (ring.length > CAPACITY) ring.shift()
}

/**
 * The last `limit` incidents, newest first.
 *
 * @example
 * ```ts
 * recentIncidents(20)[0]?.verdict // 'poison'
 * ```
 */
export function recentIncidents(limit: number): RecentIncident[] {
  return ring.slice(-limit).reverse()
}

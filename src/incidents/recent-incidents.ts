import { stat } from 'node:fs/promises'
import type { Incident } from './incident.js'
import { incidentFiles, readIncident } from './incident-files.js'
import { readTriage, summarizeTriage, triagePathOf, type TriageSummary } from './stored-triage.js'

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
  /** Identical failures counted in this incident's file (1: only itself). */
  count: number
  /** Its file: every row is an incident written to disk. */
  path: string
  /** What `crashless triage` said of it, when its triage is kept beside it; null: not triaged. */
  triage: TriageSummary | null
}

const CAPACITY = 50
const ring: RecentIncident[] = []
/** Each row's triage file as last read (inode, mtime, size; '' for none), so a poll reads only what changed. */
const triageSeen = new Map<string, string>()

/**
 * Remembers an incident once its file is written, so the dashboard lists recent incidents
 * without reading the disk. An incident written again (an identical failure counted in it)
 * updates its row's count rather than adding one. One list per process, bounded, in id order
 * (ids sort by time).
 *
 * @example
 * ```ts
 * rememberIncident(incident, '.crashless/incidents/inc-….json')
 * ```
 */
export function rememberIncident(incident: Incident, path: string): void {
  const known = ring.findIndex((row) => row.id === incident.id)
  if (known >= 0) {
    ring[known]!.count = incident.count ?? 1
    return
  }
  const failures: string[] = []
  for (const step of incident.steps) if (step.failure !== undefined && !failures.includes(step.failure)) failures.push(step.failure)
  const row: RecentIncident = {
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
    count: incident.count ?? 1,
    path,
    triage: null,
  }
  // Almost always the newest; one read back from the folder may be older than one just written.
  let at = ring.length
  while (at > 0 && ring[at - 1]!.id > row.id) at--
  ring.splice(at, 0, row)
  if (ring.length > CAPACITY) triageSeen.delete(ring.shift()!.id)
}

/**
 * Fills the list from the incidents folder: the newest {@link CAPACITY} incident files, so the
 * dashboard of a runtime that took over (after a death or a reload) still lists what its
 * predecessors wrote. Read off the request path, once the admin endpoint serves; a file pruned
 * or half-read meanwhile is skipped.
 *
 * @example
 * ```ts
 * await loadRecentIncidents('.crashless/incidents')
 * ```
 */
export async function loadRecentIncidents(dir: string): Promise<void> {
  const files = (await incidentFiles(dir)).slice(-CAPACITY)
  for (const file of files) {
    try {
      const incident = await readIncident(dir, file.id)
      // readIncident falls back to the incident an id was counted in: keep only its own file.
      if (incident.id === file.id) rememberIncident(incident, file.path)
    } catch {
      // Pruned by a runtime writing there.
    }
  }
  await refreshTriages(dir)
}

/**
 * Brings the rows' triages up to date with the folder: `crashless triage`, run by someone in
 * another process, keeps its report beside the incident (`<id>.triage.json`). One `stat` per
 * row (at most {@link CAPACITY}), and a read only of a triage file that appeared or changed;
 * a triage file removed (its incident pruned) clears the row's. Asynchronous file system calls
 * only: the thread that serves traffic just takes their answers. Resolves with whether a row
 * changed.
 *
 * @example
 * ```ts
 * if (await refreshTriages('.crashless/incidents')) feed.changed()
 * ```
 */
export async function refreshTriages(dir: string): Promise<boolean> {
  let changed = false
  for (const row of [...ring]) {
    // The inode too, not the time alone: a triage is renamed into place, so a replacement is a
    // new file, and two writes within one tick of the file system's clock (~4 ms) share an mtime.
    const version = await stat(triagePathOf(dir, row.id)).then((s) => `${s.ino}:${s.mtimeMs}:${s.size}`, () => '')
    if (version === (triageSeen.get(row.id) ?? '')) continue
    const triage = version === '' ? null : await readTriage(dir, row.id)
    // Half-written files are never seen (renamed into place); an unreadable one is tried again.
    if (version !== '' && triage === null) continue
    // Dropped from the list while its file was read.
    if (!ring.includes(row)) continue
    triageSeen.set(row.id, version)
    row.triage = triage ? summarizeTriage(triage) : null
    changed = true
  }
  return changed
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

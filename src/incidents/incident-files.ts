import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CrashlessError } from '../errors.js'
import { isIncidentId, type Incident } from './incident.js'
import { readTriage, summarizeTriage, triageIdOf, triagePathOf, type TriageSummary } from './stored-triage.js'
import type { TriageClass } from './triage.js'

/** What `crashless incidents ls --json` prints per incident. */
export interface IncidentSummary {
  id: string
  at: string
  signature: string
  verdict: Incident['verdict']
  kind: string
  count: number
  frame: string | null
  /** The class `crashless triage` gave it, when its triage is kept; else null. */
  triage: TriageClass | null
  /** What its kept triage says, in short (the admin endpoint's listing and the dashboard show it). */
  triageSummary: TriageSummary | null
}

/** An incident's file in the folder, and its triage's when one is kept. */
export interface IncidentFile {
  id: string
  path: string
  /** The incident file's bytes. */
  bytes: number
  /** Its kept triage's bytes (0 without one): they count against `incidents.maxBytes` too. */
  triageBytes: number
}

/** Incident files in `dir` (not temporary ones), oldest first: ids sort by time. */
export async function incidentFiles(dir: string): Promise<IncidentFile[]> {
  return (await folderFiles(dir)).incidents
}

/**
 * The incidents folder as it is: the incident files, oldest first, and the triage files whose
 * incident is gone (pruned while the triage was written), which the store deletes.
 */
export async function folderFiles(dir: string): Promise<{ incidents: IncidentFile[]; orphanTriages: string[] }> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { incidents: [], orphanTriages: [] }
    throw err
  }
  const ids = names.filter((n) => n.endsWith('.json') && isIncidentId(n.slice(0, -5))).map((n) => n.slice(0, -5)).sort()
  const triaged = new Set<string>()
  for (const name of names) {
    const id = triageIdOf(name)
    if (id !== null) triaged.add(id)
  }
  const incidents: IncidentFile[] = []
  for (const id of ids) {
    const path = join(dir, `${id}.json`)
    try {
      const bytes = (await stat(path)).size
      const triageBytes = triaged.has(id) ? await stat(triagePathOf(dir, id)).then((s) => s.size, () => 0) : 0
      incidents.push({ id, path, bytes, triageBytes })
    } catch {
      // Pruned meanwhile by a runtime writing here.
    }
  }
  const present = new Set(ids)
  return { incidents, orphanTriages: [...triaged].filter((id) => !present.has(id)) }
}

/**
 * Summaries of the incidents in `dir`, newest first (at most `limit`).
 *
 * @example
 * ```ts
 * await listIncidents('.crashless/incidents') // [{ id: 'inc-…', at: '…', signature: 'GET /boom #-', verdict: 'poison', kind: 'crash', count: 1, frame: 'app.mjs:3:9' }]
 * ```
 */
export async function listIncidents(dir: string, limit = Infinity): Promise<IncidentSummary[]> {
  const files = (await incidentFiles(dir)).reverse().slice(0, limit)
  const out: IncidentSummary[] = []
  for (const file of files) {
    const incident = await readJson(file.path)
    if (!incident) continue
    const triage = file.triageBytes > 0 ? await readTriage(dir, file.id) : null
    out.push(summarize(incident, triage ? summarizeTriage(triage) : null))
  }
  return out
}

/** The summary line of an incident, with what its kept triage says (null: not triaged). */
export function summarize(incident: Incident, triage: TriageSummary | null = null): IncidentSummary {
  return { id: incident.id, at: incident.at, signature: incident.signature, verdict: incident.verdict, kind: incident.kind ?? incident.steps.find((s) => s.failure)?.failure ?? 'unknown', count: incident.count ?? 1, frame: incident.frame ?? null, triage: triage?.class ?? null, triageSummary: triage }
}

/**
 * The incident `id` names, read from `dir`: its own file, or the incident it was counted in as
 * an identical failure (its `occurrences`). `latest` names the newest. Throws
 * CRASHLESS_ERR_NOT_FOUND when there is none.
 *
 * @example
 * ```ts
 * const incident = await readIncident('.crashless/incidents', 'inc-20301001T100000Z-4f9a1c2e')
 * ```
 */
export async function readIncident(dir: string, id: string): Promise<Incident> {
  if (id === 'latest') {
    const files = await incidentFiles(dir)
    const newest = files[files.length - 1]
    if (newest) id = newest.id
  }
  if (isIncidentId(id)) {
    const own = await readJson(join(dir, `${id}.json`))
    if (own) return own
    for (const file of (await incidentFiles(dir)).reverse()) {
      const incident = await readJson(file.path)
      if (incident?.occurrences?.some((o) => o.id === id)) return incident
    }
  }
  throw new CrashlessError('CRASHLESS_ERR_NOT_FOUND', `no incident ${id} in ${dir} (it may have been pruned: see incidents.maxCount and maxBytes)`)
}

async function readJson(path: string): Promise<Incident | null> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Incident
    return typeof value === 'object' && value !== null && typeof value.id === 'string' ? value : null
  } catch {
    return null
  }
}

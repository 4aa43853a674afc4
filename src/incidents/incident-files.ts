import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CrashlessError } from '../errors.js'
import { isIncidentId, type Incident } from './incident.js'

/** What `crashless incidents ls --json` prints per incident. */
export interface IncidentSummary {
  id: string
  at: string
  signature: string
  verdict: Incident['verdict']
  kind: string
  count: number
  frame: string | null
}

/** Incident files in `dir` (not temporary ones), oldest first: ids sort by time. */
export async function incidentFiles(dir: string): Promise<{ id: string; path: string; bytes: number }[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const ids = names.filter((n) => n.endsWith('.json') && isIncidentId(n.slice(0, -5))).map((n) => n.slice(0, -5)).sort()
  const out: { id: string; path: string; bytes: number }[] = []
  for (const id of ids) {
    const path = join(dir, `${id}.json`)
    try {
      out.push({ id, path, bytes: (await stat(path)).size })
    } catch {
      // Pruned meanwhile by a runtime writing here.
    }
  }
  return out
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
    if (incident) out.push(summarize(incident))
  }
  return out
}

/** The summary line of an incident. */
export function summarize(incident: Incident): IncidentSummary {
  return { id: incident.id, at: incident.at, signature: incident.signature, verdict: incident.verdict, kind: incident.kind ?? incident.steps.find((s) => s.failure)?.failure ?? 'unknown', count: incident.count ?? 1, frame: incident.frame ?? null }
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

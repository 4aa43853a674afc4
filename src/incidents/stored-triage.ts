import { access, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CrashlessError } from '../errors.js'
import { isIncidentId } from './incident.js'
import { isSecretHeader, redactBody, redactUrl, REDACTED, type RedactRules } from './redact.js'
import type { TriageClass, TriageReport } from './triage.js'

/**
 * A triage report as `crashless triage --json` prints it and as it is kept beside its incident
 * (`<id>.triage.json`): the report without the setup a regression test replays (that holds the
 * tape's values), and when it was made.
 */
export type StoredTriage = Omit<TriageReport, 'setup'> & { triagedAt: string }

/** What the dashboard and incident listings show of a stored triage. */
export interface TriageSummary {
  class: TriageClass
  reproduced: boolean
  runs: number
  agreeing: number
  cure: string | null
  /** The minimised request, `METHOD url` (cut to 300 characters); null when not minimised. */
  minimized: string | null
  /** The regression test's path, as triage wrote it; null when none was written. */
  regressionTest: string | null
  triagedAt: string
}

const SUFFIX = '.triage.json'

/** Where the triage of incident `id` is kept. */
export function triagePathOf(dir: string, id: string): string {
  return join(dir, `${id}${SUFFIX}`)
}

/** The incident id a file name in the incidents folder keeps the triage of, or null when it is no triage file. */
export function triageIdOf(name: string): string | null {
  if (!name.endsWith(SUFFIX)) return null
  const id = name.slice(0, -SUFFIX.length)
  return isIncidentId(id) ? id : null
}

/**
 * The stored form of a report: without its setup, stamped, and redacted by `rules` (the
 * incident was redacted when it was written; the config may name more secrets since).
 *
 * @example
 * ```ts
 * const stored = storedTriage(report, { headers: [], bodyFields: [] })
 * process.stdout.write(JSON.stringify(stored))
 * ```
 */
export function storedTriage(report: TriageReport, rules: RedactRules, at = new Date()): StoredTriage {
  const { setup: _setup, ...shown } = report
  const minimized = shown.minimized
  if (minimized) {
    const { request } = minimized
    const contentType = request.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? null
    shown.minimized = {
      ...minimized,
      request: {
        ...request,
        url: redactUrl(request.url, rules),
        headers: request.headers.map(([name, value]) => [name, isSecretHeader(name, rules) ? REDACTED : value]),
        body: request.body !== null && request.bodyEncoding === 'utf8' ? redactBody(request.body, contentType, rules) : request.body,
      },
    }
  }
  return { ...shown, triagedAt: at.toISOString() }
}

/**
 * Keeps a triage beside its incident in `dir`, replacing an earlier one (written to a
 * temporary file, then renamed: a reader never sees half of it). It goes where the incident
 * is, so it is pruned with it; an incident pruned meanwhile takes its triage with it.
 * Throws CRASHLESS_ERR_NOT_FOUND when the incident is not (or no longer) there.
 *
 * @example
 * ```ts
 * const path = await saveTriage('.crashless/incidents', storedTriage(report, rules))
 * ```
 */
export async function saveTriage(dir: string, triage: StoredTriage): Promise<string> {
  if (!isIncidentId(triage.id)) throw new CrashlessError('CRASHLESS_ERR_NOT_FOUND', `not an incident id: ${triage.id.slice(0, 80)}`)
  const incident = join(dir, `${triage.id}.json`)
  const gone = (): CrashlessError => new CrashlessError('CRASHLESS_ERR_NOT_FOUND', `incident ${triage.id} is no longer in ${dir} (pruned: see incidents.maxCount and maxBytes); its triage was not kept`)
  if (!(await exists(incident))) throw gone()
  const path = triagePathOf(dir, triage.id)
  const temporary = join(dir, `.${triage.id}.triage.${process.pid}.tmp`)
  await writeFile(temporary, `${JSON.stringify(triage, null, 2)}\n`)
  await rename(temporary, path)
  // A runtime may have pruned the incident while this was written: do not leave an orphan.
  if (!(await exists(incident))) {
    await unlink(path).catch(() => {})
    throw gone()
  }
  return path
}

/**
 * The triage kept for incident `id` in `dir`, or null when there is none (or it cannot be read).
 *
 * @example
 * ```ts
 * (await readTriage('.crashless/incidents', 'inc-…'))?.class // 'deterministic'
 * ```
 */
export async function readTriage(dir: string, id: string): Promise<StoredTriage | null> {
  if (!isIncidentId(id)) return null
  try {
    const value = JSON.parse(await readFile(triagePathOf(dir, id), 'utf8')) as StoredTriage
    return typeof value === 'object' && value !== null && value.id === id && typeof value.class === 'string' ? value : null
  } catch {
    return null
  }
}

/**
 * What listings and the dashboard show of a triage.
 *
 * @example
 * ```ts
 * summarizeTriage(stored) // { class: 'deterministic', reproduced: true, runs: 5, agreeing: 5, cure: null, minimized: 'PUT /user?id=666', … }
 * ```
 */
export function summarizeTriage(triage: StoredTriage): TriageSummary {
  const request = triage.minimized?.request
  return {
    class: triage.class,
    reproduced: triage.reproduced,
    runs: triage.runs,
    agreeing: triage.agreeing,
    cure: triage.cure,
    minimized: request ? `${request.method} ${request.url}`.slice(0, 300) : null,
    regressionTest: triage.regressionTest,
    triagedAt: triage.triagedAt,
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

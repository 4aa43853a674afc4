import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { listIncidents, readIncident, readTriage, toOtelEvent, toSentryEvent } from '../incidents/index.js'
import { formatIncident, formatIncidentTable } from './format-incidents.js'
import { INCIDENT_FLAGS, parsing, workspace } from './incidents-dir.js'

/**
 * `crashless incidents ls | show <id> | export <id> --format otel|sentry`: reads the incidents
 * folder of the working directory (or `--dir`); no running crashless is needed. `ls --json`
 * prints `[{ id, at, signature, verdict, kind, count, frame, triage, triageSummary }]`, newest
 * first (`triage`: the class of its kept triage, or null). `show` adds the kept triage
 * (`--json`: as `triage`, null when there is none). Resolves with the
 * exit code (1: no such incident); bad usage throws a UsageError (exit 2).
 *
 * @example
 * ```ts
 * await incidentsCommand(['show', 'latest', '--json'])
 * ```
 */
export async function incidentsCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv
  if (action !== 'ls' && action !== 'show' && action !== 'export') {
    throw new UsageError(action === undefined ? 'crashless incidents needs an action: ls, show <id> or export <id>' : `crashless incidents: unknown action "${action}" (expected ls, show or export)`)
  }
  const { values, positionals } = parsing(`crashless incidents ${action}`, () =>
    parseArgs({ args: rest, allowPositionals: true, strict: true, options: { ...INCIDENT_FLAGS, format: { type: 'string' }, limit: { type: 'string' } } }),
  )
  const { dir } = await workspace(values, process.cwd())
  if (action === 'ls') {
    if (positionals.length > 0) throw new UsageError(`crashless incidents ls takes no arguments, got: ${positionals.join(' ')}`)
    const limit = values.limit === undefined ? Infinity : Number(values.limit)
    if (!(limit >= 1)) throw new UsageError(`--limit expects a positive number, got "${values.limit}"`)
    const rows = await listIncidents(dir, limit)
    process.stdout.write(values.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatIncidentTable(rows)}\n`)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError(`crashless incidents ${action} takes one incident id (or "latest")`)
  const format = values.format ?? (action === 'export' ? undefined : 'text')
  if (action === 'export' && format !== 'otel' && format !== 'sentry') throw new UsageError('crashless incidents export needs --format otel or --format sentry')
  const incident = await readIncident(dir, positionals[0]!)
  if (action === 'show') {
    const triage = await readTriage(dir, incident.id)
    process.stdout.write(values.json ? `${JSON.stringify({ ...incident, triage }, null, 2)}\n` : `${formatIncident(incident, triage)}\n`)
  } else process.stdout.write(`${JSON.stringify(format === 'otel' ? toOtelEvent(incident) : toSentryEvent(incident), null, 2)}\n`)
  return 0
}

import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { diffFingerprints, fingerprint, MATTERS, readIncident, replayIncident } from '../incidents/index.js'
import { dirname } from 'node:path'
import { formatReplay } from './format-incidents.js'
import { INCIDENT_FLAGS, parsing, workspace } from './incidents-dir.js'

/**
 * `crashless replay <id> [--inspect[=host:port]] [--json] [--dir <dir>]`: re-runs an incident's
 * request against its app with the recorded store reads and nondeterminism, and says whether
 * the failure reproduces (same kind, same first in-app frame). Exit 0 when it does, 1 when it
 * does not (or cannot run). Warns first when this machine's environment differs from the
 * incident's in a way likely to matter. With `--inspect` the replay waits for a debugger
 * (chrome://inspect) before loading the app, and stops again at the failure.
 *
 * @example
 * ```ts
 * process.exitCode = await replayCommand(['inc-20301001T100000Z-4f9a1c2e'])
 * ```
 */
export async function replayCommand(argv: string[]): Promise<number> {
  // `--inspect` alone or `--inspect=host:port`, as node takes it.
  let inspect: string | null = null
  const args = argv.filter((arg) => {
    if (arg !== '--inspect' && !arg.startsWith('--inspect=')) return true
    inspect = arg === '--inspect' ? '127.0.0.1:9229' : arg.slice('--inspect='.length)
    return false
  })
  const { values, positionals } = parsing('crashless replay', () => parseArgs({ args, allowPositionals: true, strict: true, options: INCIDENT_FLAGS }))
  if (positionals.length !== 1) throw new UsageError('crashless replay takes one incident id (or "latest")')
  const ws = await workspace(values, process.cwd())
  const incident = await readIncident(ws.dir, positionals[0]!)
  const warnings: string[] = []
  if (incident.environment && incident.app) {
    const here = fingerprint(dirname(incident.app.entry), null, ws.redactEnv)
    // A replay runs with the incident's own limits (incident.app), not crashless's config: its hash is no concern here.
    for (const d of diffFingerprints(incident.environment, here).filter((d) => d.weight >= MATTERS && d.path !== 'configHash')) warnings.push(`${d.path}: ${JSON.stringify(d.a)} there, ${JSON.stringify(d.b)} here (${d.why})`)
  }
  if (!values.json) {
    process.stderr.write(`replaying ${incident.id}: ${incident.verdict} ${incident.kind ?? ''}${incident.frame ? ` at ${incident.frame}` : ''} of ${incident.signature}\n`)
    for (const warning of warnings) process.stderr.write(`warning: the environment differs: ${warning}\n`)
    if (inspect) process.stderr.write(`waiting for a debugger on ${inspect} (chrome://inspect): it stops before the app loads; resume, and it stops again at the failure with \`error\` in scope\n`)
  }
  const result = await replayIncident(incident, { inspect, echo: !values.json })
  process.stdout.write(values.json ? `${JSON.stringify({ ...result, warnings }, null, 2)}\n` : `${formatReplay(result)}\n`)
  return result.reproduced ? 0 : 1
}

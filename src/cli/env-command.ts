import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { CrashlessError, UsageError } from '../errors.js'
import { diffFingerprints, fingerprint, readIncident, type Fingerprint, type Incident } from '../incidents/index.js'
import { formatEnvDiff } from './format-incidents.js'
import { INCIDENT_FLAGS, parsing, workspace, type Workspace } from './incidents-dir.js'

/**
 * `crashless env [--json]` prints this machine's environment fingerprint (PerfCheck's), as
 * incidents carry it; `crashless env diff <a> <b> [--json]` compares two, each a file (a
 * fingerprint saved with `crashless env --json`, or an incident file), an incident id, or
 * `here`, the weightiest differences first.
 *
 * @example
 * ```ts
 * await envCommand(['diff', 'inc-20301001T100000Z-4f9a1c2e', 'here', '--json'])
 * ```
 */
export async function envCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parsing('crashless env', () => parseArgs({ args: argv, allowPositionals: true, strict: true, options: INCIDENT_FLAGS }))
  const ws = await workspace(values, process.cwd())
  if (positionals.length === 0) {
    const here = fingerprint(ws.appDir, ws.configHash, ws.redactEnv)
    process.stdout.write(values.json ? `${JSON.stringify(here, null, 2)}\n` : `${formatFingerprint(here)}\n`)
    return 0
  }
  if (positionals[0] !== 'diff' || positionals.length !== 3) throw new UsageError('crashless env takes no argument, or: diff <a> <b> (each a file, an incident id, or "here")')
  const [a, b] = [positionals[1]!, positionals[2]!]
  const left = await load(a, ws, b)
  const right = await load(b, ws, a)
  // A config hash only one side has (no config here) says nothing.
  if (left.configHash === null || right.configHash === null) left.configHash = right.configHash = null
  const differences = diffFingerprints(left, right)
  process.stdout.write(values.json ? `${JSON.stringify(differences, null, 2)}\n` : `${formatEnvDiff(differences)}\n`)
  return 0
}

/** A fingerprint named on the command line; `here` is measured for the app of the other side when that is an incident. */
async function load(name: string, ws: Workspace, other: string): Promise<Fingerprint> {
  if (name === 'here') {
    const incident = other === 'here' ? null : await incidentOf(other, ws).catch(() => null)
    return fingerprint(incident?.app ? dirname(incident.app.entry) : ws.appDir, ws.configHash, ws.redactEnv)
  }
  const incident = await incidentOf(name, ws)
  if (!incident.environment) throw new CrashlessError('CRASHLESS_ERR_NOT_FOUND', `${name} has no environment fingerprint (written by an older crashless)`)
  return incident.environment
}

/** A file holding an incident or a bare fingerprint (wrapped as an incident), or an incident id. */
async function incidentOf(name: string, ws: Workspace): Promise<Incident> {
  const path = resolve(name)
  if (existsSync(path)) {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Incident | Fingerprint
    return 'node' in value && 'v8' in value ? ({ environment: value } as Incident) : value
  }
  return readIncident(ws.dir, name)
}

function formatFingerprint(fp: Fingerprint): string {
  const { dependencies, ulimits, ...rest } = fp
  const lines = Object.entries(rest).map(([key, value]) => `${key.padEnd(12)} ${typeof value === 'string' ? value : JSON.stringify(value)}`)
  lines.push('ulimits', ...Object.entries(ulimits).map(([k, v]) => `  ${k.padEnd(26)} ${v}`))
  lines.push('dependencies', ...Object.entries(dependencies).map(([k, v]) => `  ${k.padEnd(26)} ${v ?? '(not installed)'}`))
  return lines.join('\n')
}

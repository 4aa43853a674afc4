import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { fingerprint, readIncident, triageIncident, writeRegressionTest } from '../incidents/index.js'
import { formatTriage } from './format-triage.js'
import { INCIDENT_FLAGS, parsing, workspace } from './incidents-dir.js'

/**
 * `crashless triage <id> [--runs <n>] [--out <dir>] [--no-test] [--json]`: re-runs an incident
 * several ways, classifies it (deterministic, concurrency, resource, environment,
 * not-reproducible), minimises its request and writes a `node:test` regression test to
 * `--out` (default `test/regressions`). `--json` prints `{ id, class, reproduced, runs,
 * agreeing, cure, minimized, regressionTest, … }`. Exit 0 when it reproduced, 1 when not.
 *
 * @example
 * ```ts
 * process.exitCode = await triageCommand(['latest', '--json'])
 * ```
 */
export async function triageCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parsing('crashless triage', () =>
    parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...INCIDENT_FLAGS, runs: { type: 'string' }, out: { type: 'string' }, 'no-test': { type: 'boolean' } } }),
  )
  if (positionals.length !== 1) throw new UsageError('crashless triage takes one incident id (or "latest")')
  const runs = values.runs === undefined ? 5 : Number(values.runs)
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new UsageError(`--runs expects an integer from 1 to 100, got "${values.runs}"`)
  const ws = await workspace(values, process.cwd())
  const incident = await readIncident(ws.dir, positionals[0]!)
  const here = incident.app ? fingerprint(dirname(incident.app.entry), null, ws.redactEnv) : null
  const progress = values.json ? undefined : (line: string) => process.stderr.write(`  ${line}\n`)
  if (!values.json) process.stderr.write(`triaging ${incident.id}: ${incident.verdict} ${incident.kind ?? ''}${incident.frame ? ` at ${incident.frame}` : ''} of ${incident.signature}\n`)
  const report = await triageIncident(incident, { runs, here, ...(progress ? { progress } : {}) })
  if (!values['no-test']) report.regressionTest = await writeRegressionTest(incident, report, resolve(values.out ?? 'test/regressions'))
  const { setup: _setup, ...shown } = report
  process.stdout.write(values.json ? `${JSON.stringify(shown, null, 2)}\n` : `${formatTriage(report)}\n`)
  return report.reproduced ? 0 : 1
}

import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { fingerprint, readIncident, saveTriage, storedTriage, triageIncident, writeRegressionTest } from '../incidents/index.js'
import { formatTriage } from './format-triage.js'
import { INCIDENT_FLAGS, parsing, workspace } from './incidents-dir.js'

/**
 * `crashless triage <id> [--runs <n>] [--out <dir>] [--no-test] [--no-save] [--json]`: re-runs
 * an incident several ways, classifies it (deterministic, concurrency, resource, environment,
 * not-reproducible), minimises its request and writes a `node:test` regression test to
 * `--out` (default `test/regressions`). `--json` prints `{ id, class, reproduced, runs,
 * agreeing, cure, minimized, regressionTest, …, triagedAt }`, and that is what is kept beside
 * the incident (`<id>.triage.json`, redacted by `incidents.redact`, replacing an earlier
 * triage) for `incidents show`, the admin endpoint and the dashboard, unless `--no-save`.
 * Exit 0 when it reproduced, 1 when not.
 *
 * @example
 * ```ts
 * process.exitCode = await triageCommand(['latest', '--json'])
 * ```
 */
export async function triageCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parsing('crashless triage', () =>
    parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...INCIDENT_FLAGS, runs: { type: 'string' }, out: { type: 'string' }, 'no-test': { type: 'boolean' }, 'no-save': { type: 'boolean' } } }),
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
  const stored = storedTriage(report, ws.redact)
  let kept: string | null = null
  if (!values['no-save']) {
    try {
      kept = await saveTriage(ws.dir, stored)
    } catch (err) {
      // The report is still worth printing; only keeping it failed (the incident was pruned, a full disk).
      process.stderr.write(`crashless triage: the report was not kept beside the incident: ${(err as Error).message}\n`)
    }
  }
  process.stdout.write(values.json ? `${JSON.stringify(stored, null, 2)}\n` : `${formatTriage(stored)}\n${kept ? `report kept: ${kept} (crashless incidents show ${stored.id})\n` : ''}`)
  return report.reproduced ? 0 : 1
}

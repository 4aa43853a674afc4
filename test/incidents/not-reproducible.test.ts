/**
 * The `not-reproducible` class of `crashless triage` (issue 11, point 4), on a real incident of a
 * real crashless: a bug that needs a process which has served a while (test/fixtures/
 * warm-state-app.mjs) cannot fail in the fresh process a replay runs in, nor beside neighbours
 * or in the incident's environment. Triage says so and exits 1.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, runCli, tempDir, writeConfig } from '../admin/run-cli.js'

let cwd: string
let server: CrashlessProcess
let incidentId = ''

before(async () => {
  cwd = tempDir()
  const file = writeConfig(cwd, { entry: fixture('warm-state-app.mjs') })
  server = await startCrashless(fixture('warm-state-app.mjs'), ['--config', file, '--instances', '1', '--no-keeper'], { cwd })
  // Warm the one serving instance, then the request that fails only there.
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${server.url}/ok`)).status, 200)
  await fetch(`${server.url}/report`)
  const verdict = await server.waitForLog((l) => (l.event === 'cured' || l.event === 'quarantined' || l.event === 'cleared') && String(l.signature).startsWith('GET /report'), 30_000)
  incidentId = verdict.incidentId as string
  await server.waitForLog((l) => (l.event === 'incident' || l.event === 'incident-counted') && l.incidentId === incidentId, 10_000)
  await server.stop()
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

test('a failure that needs a warm process: replay does not reproduce it, triage says not-reproducible and exits 1', async () => {
  assert.ok(incidentId, 'no incident was recorded')
  const show = await runCli(['incidents', 'show', incidentId, '--json'], { cwd })
  const incident = JSON.parse(show.stdout) as { kind: string; verdict: string; error: { message: string } }
  // It did fail, in the warm process: the incident is a real crash, which the ladder's fresh re-run did not repeat.
  assert.equal(incident.kind, 'crash')
  assert.match(incident.error.message, /report after 3 requests/)
  const replay = await runCli(['replay', incidentId, '--json'], { cwd })
  assert.equal(replay.code, 1, replay.stderr)
  assert.equal(JSON.parse(replay.stdout).reproduced, false)

  const out = await runCli(['triage', incidentId, '--json', '--runs', '3'], { cwd, timeoutMs: 120_000 })
  assert.equal(out.code, 1, out.stderr)
  const report = JSON.parse(out.stdout) as { class: string; reproduced: boolean; agreeing: number; settings: { name: string; runs: number; agreeing: number }[]; why: string; regressionTest: string | null }
  assert.equal(report.class, 'not-reproducible', report.why)
  assert.equal(report.reproduced, false)
  assert.equal(report.agreeing, 0)
  assert.ok(report.settings.length >= 1 && report.settings.every((s) => s.agreeing === 0), JSON.stringify(report.settings))
  process.stdout.write(`# triage of the warm-process bug (verdict ${incident.verdict}): ${report.class}: ${report.why}\n`)
})

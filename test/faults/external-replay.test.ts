/**
 * An instance ended for `limits.externalMb` replays as running out of memory (issue 11, point
 * 4: resource exhaustion covers external memory). `--max-old-space-size` bounds only the heap,
 * so the replay applies the incident's `externalMb` itself; without it, the Buffers a request
 * keeps (test/fixtures/alloc-app.mjs, /external) would fit in the replay process and the
 * request would answer. Here, not under test/incidents: it allocates hundreds of MiB, so it
 * runs alone.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, runCli, tempDir, writeConfig } from '../admin/run-cli.js'
import type { Incident } from '../../src/incidents/index.js'

const EXTERNAL_MB = 128

let cwd: string
let server: CrashlessProcess

before(async () => {
  cwd = tempDir()
  const file = writeConfig(cwd, { entry: fixture('alloc-app.mjs'), limits: { externalMb: EXTERNAL_MB } })
  server = await startCrashless(fixture('alloc-app.mjs'), ['--config', file, '--instances', '1', '--no-keeper'], { cwd })
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

test('a request keeping 384 MiB of Buffers under limits.externalMb 128: replay says out-of-memory, triage says resource', async () => {
  // 16 MiB a turn, so the guard (and the replay's watch) see it grow between turns.
  const res = await fetch(`${server.url}/external?mb=384&step=16`)
  const { error } = (await res.json()) as { error: { code: string; incidentId: string } }
  assert.equal(error.code, 'CRASHLESS_ERR_POISON')
  await server.waitForLog((l) => l.event === 'incident' && l.incidentId === error.incidentId, 10_000)
  await server.stop()
  const incident = JSON.parse(readFileSync(join(cwd, '.crashless', 'incidents', `${error.incidentId}.json`), 'utf8')) as Incident
  assert.equal(incident.kind, 'out-of-memory')
  assert.ok(incident.steps.length > 0 && incident.steps.every((s) => s.error?.code === 'CRASHLESS_ERR_EXTERNAL_LIMIT'), JSON.stringify(incident.steps))
  assert.equal(incident.app?.externalMb, EXTERNAL_MB)

  const replay = await runCli(['replay', incident.id, '--json'], { cwd, timeoutMs: 60_000 })
  assert.equal(replay.code, 0, replay.stdout + replay.stderr)
  const result = JSON.parse(replay.stdout) as { got: { kind: string; error: { message: string } | null } }
  assert.equal(result.got.kind, 'out-of-memory')
  assert.match(result.got.error?.message ?? '', /MiB outside the V8 heap \(Buffers, ArrayBuffers\), past limits\.externalMb \(128 MiB\)/)

  const triage = await runCli(['triage', incident.id, '--json', '--runs', '2', '--no-test'], { cwd, timeoutMs: 120_000 })
  assert.equal(triage.code, 0, triage.stdout + triage.stderr)
  const report = JSON.parse(triage.stdout) as { class: string; agreeing: number; runs: number; why: string }
  assert.equal(report.class, 'resource', report.why)
  assert.equal(report.agreeing, report.runs)
  assert.match(report.why, /exhausting memory outside the heap \(Buffers, ArrayBuffers; limits\.externalMb 128 MiB\)/)
  process.stdout.write(`# triage of the external-memory bomb: ${report.class} (${report.agreeing}/${report.runs}): ${report.why}\n`)
})

/**
 * A re-run that misses its deadline still leaves its tape (issue 11, point 1): the recording
 * (sacrificial) instance answers the dispatcher's abort with what the request drew, so the
 * incident of a request that waits forever on a store value carries that read, and `crashless
 * replay`, which has no store, waits on it too. The two copies sent together are each other's
 * neighbours. Here, not under test/incidents: it judges deadlines, so it runs alone.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, runCli, tempDir, writeConfig } from '../admin/run-cli.js'
import type { Incident } from '../../src/incidents/index.js'

const REQUEST_MS = 600

let cwd: string
let server: CrashlessProcess

before(async () => {
  cwd = tempDir()
  const file = writeConfig(cwd, { entry: fixture('deadline-tape-app.mjs'), timeouts: { requestMs: REQUEST_MS } })
  server = await startCrashless(fixture('deadline-tape-app.mjs'), ['--config', file, '--instances', '1', '--no-keeper'], { cwd })
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

test("a request that never answers for one store value: its incident's tape has the read, and replay waits on it", async () => {
  assert.equal((await fetch(`${server.url}/set?mode=wait-forever`)).status, 200)
  const answers = await Promise.all([fetch(`${server.url}/job`), fetch(`${server.url}/job`)])
  const codes = await Promise.all(answers.map(async (res) => ((await res.json()) as { error: { code: string; incidentId?: string } }).error))
  assert.ok(codes.some((e) => e.code === 'CRASHLESS_ERR_POISON'), JSON.stringify(codes))
  const verdict = await server.waitForLog((l) => l.event === 'quarantined' && String(l.signature).startsWith('GET /job'), 20_000)
  const id = verdict.incidentId as string
  await server.waitForLog((l) => l.event === 'incident' && l.incidentId === id, 10_000)
  const incident = JSON.parse(readFileSync(join(cwd, '.crashless', 'incidents', `${id}.json`), 'utf8')) as Incident
  assert.equal(incident.kind, 'deadline')
  assert.ok(incident.steps.filter((s) => s.failure === 'deadline').length >= 2, JSON.stringify(incident.steps))
  // Taped on a sacrificial re-run that missed its deadline: the read of `mode`.
  const reads = incident.tape?.reads ?? []
  assert.equal(reads.length, 1, JSON.stringify(incident.tape))
  assert.match(JSON.stringify(reads[0]!.op), /mode/)
  assert.match(Buffer.from(reads[0]!.entries![0]!.value, 'base64').toString('utf8'), /wait-forever/)
  // Its copy ran beside it.
  assert.deepEqual(incident.neighbours?.map((n) => `${n.method} ${n.url}`), ['GET /job'])

  const replay = await runCli(['replay', id, '--json'], { cwd })
  assert.equal(replay.code, 0, replay.stdout + replay.stderr)
  const result = JSON.parse(replay.stdout) as { reproduced: boolean; got: { kind: string } }
  assert.equal(result.got.kind, 'deadline')
})

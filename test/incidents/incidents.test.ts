/**
 * Incidents of a real crashless on a real app (issue 11, points 1, 2, 6, 8): the request is
 * recorded with its secrets redacted, a sacrificial re-run's tape carries the store read and
 * the nondeterminism, `crashless replay` reproduces the failure from them without a store, and
 * `crashless incidents` reads the folder without a running crashless.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, runCli, tempDir, writeConfig } from '../admin/run-cli.js'
import type { Incident } from '../../src/incidents/index.js'

const SECRETS = ['Bearer sekrit-bearer-value', 'sekrit-api-key-value', 'sekrit-tenant-value', 'sekrit-password-value', '123-45-6789']

let server: CrashlessProcess
let cwd: string
let adminUrl: string

before(async () => {
  cwd = tempDir()
  const file = writeConfig(cwd, { entry: fixture('incident-app.mjs'), incidents: { redact: { headers: ['x-tenant'], bodyFields: ['ssn'] } } })
  server = await startCrashless(fixture('incident-app.mjs'), ['--config', file, '--instances', '1', '--no-keeper'], { cwd })
  adminUrl = `http://127.0.0.1:${(await server.waitForLog((l) => l.event === 'admin-listening', 5_000)).port as number}`
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

/** Sends a request that ends poisoned; resolves with its incident, once written. */
async function poison(path: string, init: RequestInit = {}): Promise<Incident> {
  const res = await fetch(`${server.url}${path}`, init)
  const body = (await res.json()) as { error: { code: string; incidentId: string } }
  assert.equal(body.error.code, 'CRASHLESS_ERR_POISON', JSON.stringify(body))
  const id = body.error.incidentId
  const written = await server.waitForLog((l) => (l.event === 'incident' || l.event === 'incident-counted') && l.incidentId === id, 10_000)
  assert.equal(written.event, 'incident')
  const text = readFileSync(join(cwd, '.crashless', 'incidents', `${id}.json`), 'utf8')
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} was written to disk`)
  return JSON.parse(text) as Incident
}

test('a failure replays from its tape: the store read and randomUUID come back, without a store', async () => {
  assert.equal((await fetch(`${server.url}/set?v=7`)).status, 200)
  const incident = await poison('/tape', { headers: { authorization: 'Bearer sekrit-bearer-value', 'x-api-key': 'sekrit-api-key-value', 'x-tenant': 'sekrit-tenant-value', accept: 'text/plain' } })
  const headers = Object.fromEntries((incident.request.headers as [string, string][]).map(([n, v]) => [n.toLowerCase(), v]))
  assert.deepEqual([headers.authorization, headers['x-api-key'], headers['x-tenant'], headers.accept], ['[redacted]', '[redacted]', '[redacted]', 'text/plain'])
  assert.equal(incident.kind, 'crash')
  assert.match(incident.frame!, /^incident-app\.mjs:21:\d+$/)
  assert.match(incident.error!.stack!, /unlucky/)
  assert.equal(incident.environment!.node, process.versions.node)
  assert.equal(incident.app!.entry, fixture('incident-app.mjs'))
  // Taped on a sacrificial re-run: the read of `limit` (7), one Math.random, one randomUUID.
  const tape = incident.tape!
  assert.equal(tape.uuid.length, 1)
  assert.equal(tape.random.length, 1)
  assert.ok(tape.now.length >= 1 && tape.perf.length >= 1)
  assert.equal(tape.reads.length, 1)
  assert.match(JSON.stringify(tape.reads[0]!.op), /limit/)

  const replay = await runCli(['replay', incident.id, '--json'], { cwd })
  assert.equal(replay.code, 0, replay.stderr)
  const result = JSON.parse(replay.stdout)
  assert.equal(result.reproduced, true)
  assert.equal(result.got.frame, incident.frame)
  // Word for word: the uuid and the store value can only have come from the tape.
  assert.equal(result.got.error.message, `unlucky ${tape.uuid[0]} 7 true`)
  assert.equal(result.playback.beyond, 0)

  const text = await runCli(['replay', 'latest'], { cwd })
  assert.equal(text.code, 0)
  assert.match(text.stdout, /^reproduced: expected crash at incident-app\.mjs:21:\d+, got crash at incident-app\.mjs:21:\d+/)

  // The same request, once the bug is gone (here: a route that answers): not reproduced, exit 1.
  const fixed = { ...incident, id: 'inc-20300101T000000Z-0000f1ed', request: { ...incident.request, url: '/ok' } }
  writeFileSync(join(cwd, '.crashless', 'incidents', `${fixed.id}.json`), JSON.stringify(fixed))
  const notAgain = await runCli(['replay', fixed.id, '--json'], { cwd })
  assert.equal(notAgain.code, 1, notAgain.stderr)
  assert.equal(JSON.parse(notAgain.stdout).got.status, 200)
})

test('secrets in the body are redacted: built-in field names and configured ones, at any depth', async () => {
  const incident = await poison('/login', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'ann', password: 'sekrit-password-value', profile: { ssn: '123-45-6789', city: 'Oslo' } }),
  })
  assert.deepEqual(JSON.parse(incident.request.body!), { user: 'ann', password: '[redacted]', profile: { ssn: '[redacted]', city: 'Oslo' } })
  assert.equal(incident.request.bodyEncoding, 'utf8')
  assert.match(incident.error!.message, /cannot log ann in/)
})

test('incidents ls, show and export read the folder without a running crashless; the admin endpoint serves them read-only', async () => {
  const ls = await runCli(['incidents', 'ls', '--json'], { cwd })
  assert.equal(ls.code, 0, ls.stderr)
  const rows = JSON.parse(ls.stdout) as { id: string; at: string; signature: string; verdict: string; kind: string }[]
  const tape = rows.find((r) => r.signature.startsWith('GET /tape'))!
  assert.deepEqual(Object.keys(tape).slice(0, 5), ['id', 'at', 'signature', 'verdict', 'kind'])
  assert.equal(tape.verdict, 'poison')
  assert.equal(tape.kind, 'crash')

  const show = await runCli(['incidents', 'show', tape.id], { cwd })
  assert.match(show.stdout, /^incident inc-.* poison {2}crash\n/)
  assert.match(show.stdout, /tape {6}\d+ Date.now, \d+ performance.now, 1 Math.random, 1 randomUUID/)

  const sentry = JSON.parse((await runCli(['incidents', 'export', tape.id, '--format', 'sentry'], { cwd })).stdout)
  assert.equal(sentry.level, 'fatal')
  assert.equal(sentry.exception.values[0].type, 'Error')
  assert.match(sentry.exception.values[0].value, /^unlucky /)
  assert.equal(sentry.exception.values[0].stacktrace.frames.at(-1).in_app, true)
  assert.equal(sentry.request.method, 'GET')
  assert.equal(sentry.tags['crashless.verdict'], 'poison')
  const otel = JSON.parse((await runCli(['incidents', 'export', tape.id, '--format', 'otel', '--json'], { cwd })).stdout)
  const attr = (key: string) => otel.attributes.find((a: { key: string }) => a.key === key)?.value
  assert.equal(otel.name, 'exception')
  assert.deepEqual(attr('exception.type'), { stringValue: 'Error' })
  assert.deepEqual(attr('http.request.header.authorization'), { stringValue: '[redacted]' })
  assert.equal((await runCli(['incidents', 'show', 'inc-20000101T000000Z-00000000'], { cwd })).code, 1)
  assert.equal((await runCli(['incidents', 'export', tape.id], { cwd })).code, 2)

  const listed = (await (await fetch(`${adminUrl}/incidents?limit=10`)).json()) as { incidents: { id: string }[] }
  assert.ok(listed.incidents.some((i) => i.id === tape.id))
  const one = await fetch(`${adminUrl}/incidents/${tape.id}`)
  assert.equal(one.status, 200)
  assert.equal(((await one.json()) as { id: string }).id, tape.id)
  assert.equal((await fetch(`${adminUrl}/incidents/${tape.id}`, { method: 'DELETE' })).status, 405)
  assert.equal((await fetch(`${adminUrl}/incidents/..%2f..%2fpackage.json`)).status, 404)
})

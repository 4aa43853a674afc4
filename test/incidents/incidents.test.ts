/**
 * Incidents of a real crashless on a real app (issue 11, points 1, 2, 6, 8): the request is
 * recorded with its secrets redacted, a sacrificial re-run's tape carries the store read and
 * the nondeterminism, `crashless replay` reproduces the failure from them without a store, and
 * `crashless incidents` reads the folder without a running crashless.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, test } from 'node:test'
import WebSocket from 'ws'
import { fixture, repoRoot, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, runCli, tempDir, writeConfig } from '../admin/run-cli.js'
import type { Incident } from '../../src/incidents/index.js'

const SECRETS = ['Bearer sekrit-bearer-value', 'sekrit-api-key-value', 'sekrit-tenant-value', 'sekrit-password-value', '123-45-6789', 'sekrit-query-token', 'sekrit-query-key']

let server: CrashlessProcess
let cwd: string
let adminUrl: string
/** The incident of GET /tape, whose failure a debugger is stopped at. */
let tapeIncident = ''

before(async () => {
  cwd = tempDir()
  const file = writeConfig(cwd, { entry: fixture('incident-app.mjs'), incidents: { redact: { headers: ['x-tenant'], bodyFields: ['ssn'] } } })
  // A variable only the runtime has: a replay from here warns that the environments differ.
  server = await startCrashless(fixture('incident-app.mjs'), ['--config', file, '--instances', '1', '--no-keeper'], { cwd, env: { INCIDENT_FLAVOUR: 'runtime-only' } })
  adminUrl = `http://127.0.0.1:${(await server.waitForLog((l) => l.event === 'admin-listening', 5_000)).port as number}`
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

/** Sends a request that ends poisoned (or, not safe to re-run, failed at once); resolves with its incident, once written. */
async function poison(path: string, init: RequestInit = {}, code = 'CRASHLESS_ERR_POISON'): Promise<Incident> {
  const res = await fetch(`${server.url}${path}`, init)
  const body = (await res.json()) as { error: { code: string; incidentId: string } }
  assert.equal(body.error.code, code, JSON.stringify(body))
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
  assert.match(incident.frame!, /^incident-app\.mjs:22:\d+$/)
  assert.match(incident.error!.stack!, /unlucky/)
  assert.equal(incident.environment!.node, process.versions.node)
  assert.equal(incident.app!.entry, fixture('incident-app.mjs'))
  // Taped on a sacrificial re-run: the read of `limit` (7), one Math.random, one randomUUID.
  const tape = incident.tape!
  tapeIncident = incident.id
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
  assert.match(text.stderr, /warning: the environment differs: env\.INCIDENT_FLAVOUR: "runtime-only" there, null here/)
  assert.match(text.stdout, /^reproduced: expected crash at incident-app\.mjs:22:\d+, got crash at incident-app\.mjs:22:\d+/)

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

test('secrets in the query string are redacted by name, in the URL and the signature; the other parameters are kept', async () => {
  const incident = await poison('/search?token=sekrit-query-token&api_key=sekrit-query-key&q=ok')
  assert.equal(incident.request.url, '/search?token=[redacted]&api_key=[redacted]&q=ok')
  assert.match(incident.signature, /^GET \/search\?api_key=\[redacted\]&q=ok&token=\[redacted\] #/)
  assert.match(incident.error!.message, /no results for ok/)
})

test('a request that is not re-run records what its first failure saw, and its client gets the incident id', async () => {
  const incident = await poison(
    '/login',
    { method: 'POST', headers: { 'content-type': 'application/json', cookie: 'sid=sekrit-bearer-value' }, body: JSON.stringify({ user: 'bob', password: 'sekrit-password-value' }) },
    'CRASHLESS_ERR_HANDLER',
  )
  assert.equal(incident.verdict, 'failed')
  assert.equal(incident.kind, 'crash')
  assert.deepEqual(JSON.parse(incident.request.body!), { user: 'bob', password: '[redacted]' })
  assert.match(incident.error!.stack!, /cannot log bob in/)
  assert.match(incident.frame!, /^incident-app\.mjs:\d+:\d+$/)
  // It ran on a serving instance, which records nothing.
  assert.equal(incident.tape, null)
  assert.equal(incident.steps.length, 1)
})

test('requests that succeed run on the real built-ins: serving instances wrap nothing', async () => {
  const res = await fetch(`${server.url}/natives`)
  assert.deepEqual(await res.json(), { dateNow: true, mathRandom: true })
})

test('incidents ls, show and export read the folder without a running crashless; the admin endpoint serves them read-only', async () => {
  const ls = await runCli(['incidents', 'ls', '--json'], { cwd })
  assert.equal(ls.code, 0, ls.stderr)
  const rows = JSON.parse(ls.stdout) as { id: string; at: string; signature: string; verdict: string; kind: string }[]
  const tape = rows.find((r) => r.signature.startsWith('GET /tape'))!
  assert.deepEqual(Object.keys(tape).slice(0, 5), ['id', 'at', 'signature', 'verdict', 'kind'])
  assert.equal(tape.verdict, 'poison')
  assert.equal(tape.kind, 'crash')

  // From anywhere, with --dir.
  const elsewhere = await runCli(['incidents', 'ls', '--json', '--dir', join(cwd, '.crashless', 'incidents')])
  assert.deepEqual(JSON.parse(elsewhere.stdout), rows)

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

test('replay --inspect waits for a debugger, then stops at the failure with the error in scope', { timeout: 60_000 }, async () => {
  assert.ok(tapeIncident, 'the first test recorded no incident')
  const cli = spawn(process.execPath, [`${repoRoot}bin/crashless.js`, 'replay', '--inspect=127.0.0.1:0', tapeIncident], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  let stdout = ''
  cli.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  const url = await new Promise<string>((resolve, reject) => {
    cli.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c
      const found = /Debugger listening on (ws:\/\/\S+)/.exec(stderr)
      if (found) resolve(found[1]!)
    })
    cli.once('exit', () => reject(new Error(`the replay ended before a debugger could attach: ${stderr}`)))
  })
  const ws = new WebSocket(url)
  await once(ws, 'open')
  let seq = 0
  const pending = new Map<number, (result: unknown) => void>()
  const paused: { reason: string; callFrames: { callFrameId: string; functionName: string }[] }[] = []
  let onPause: (() => void) | null = null
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; method?: string; params?: (typeof paused)[number] }
    if (message.id !== undefined) pending.get(message.id)?.(message.result)
    if (message.method === 'Debugger.paused') {
      paused.push(message.params!)
      onPause?.()
    }
  })
  const send = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve) => {
      pending.set(++seq, resolve)
      ws.send(JSON.stringify({ id: seq, method, params }))
    })
  const nextPause = (count: number): Promise<void> =>
    new Promise((resolve) => {
      onPause = () => paused.length >= count && resolve()
      onPause()
    })
  try {
    await send('Debugger.enable')
    const first = nextPause(1)
    await send('Runtime.runIfWaitingForDebugger')
    await first
    // Stopped before the app loads; resumed, it stops again where the failure lands.
    const second = nextPause(2)
    await send('Debugger.resume')
    await second
    const frame = paused[1]!.callFrames[0]!
    assert.equal(paused[1]!.reason, 'other')
    assert.equal(frame.functionName, 'failed')
    const seen = (await send('Debugger.evaluateOnCallFrame', { callFrameId: frame.callFrameId, expression: 'String(error.message)' })) as { result: { value: string } }
    assert.match(seen.result.value, /^unlucky /)
    await send('Debugger.resume')
    ws.close()
    const [code] = (await once(cli, 'exit')) as [number]
    assert.equal(code, 0, stderr)
    assert.match(stdout, /^reproduced: /)
  } finally {
    ws.terminate()
    cli.kill('SIGKILL')
  }
})

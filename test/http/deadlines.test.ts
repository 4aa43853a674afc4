// Request deadlines (timeouts.requestMs) and clients that go away mid-request: the request is
// dropped cleanly, its instance slot is freed, and the next requests are served. A request that
// is not safe to re-run (a POST without an Idempotency-Key) gets 504 when its deadline passes; a
// GET goes up the recovery ladder instead (a fresh instance, then a tripled deadline) and, if it
// never completes there either, is quarantined (500 CRASHLESS_ERR_POISON).
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { startGate, type Gate } from './gate.js'
import { send, withTimeout, writeConfig, type CrashlessErrorBody } from './http-harness.js'
import { rawConnect, rawExchange } from './raw-http.js'

const REQUEST_MS = 500
let gate: Gate
let deadlined: CrashlessProcess
/** One instance running one request at a time with one queue place, and the default (long) deadline. */
let single: CrashlessProcess
const configs: ReturnType<typeof writeConfig>[] = []

before(async () => {
  gate = await startGate()
  const env = { GATE_PORT: String(gate.port) }
  configs.push(writeConfig({ timeouts: { requestMs: REQUEST_MS } }), writeConfig({ limits: { concurrency: 1, queue: 1 } }))
  ;[deadlined, single] = await Promise.all([
    startCrashless(fixture('http/node-app.mjs'), ['--instances', '1', '--config', configs[0]!.file], { env }),
    startCrashless(fixture('http/node-app.mjs'), ['--instances', '1', '--config', configs[1]!.file], { env }),
  ])
})
after(async () => {
  await Promise.all([deadlined?.stop(), single?.stop()])
  await gate?.close()
  for (const config of configs) config.cleanup()
})

async function assertServing(server: CrashlessProcess, tag: string): Promise<void> {
  const res = await withTimeout(send(`${server.url}/echo?${tag}`).response, 5_000, `the server stopped serving (${tag})`)
  assert.equal(res.status, 200)
  assert.equal((JSON.parse(res.body) as { url: string }).url, `/echo?${tag}`)
}

describe('deadlines', () => {
  test('a POST (not safe to re-run) that never completes gets 504 JSON after timeouts.requestMs', async () => {
    const started = performance.now()
    const res = await withTimeout(send(`${deadlined.url}/never?name=never-1`, { method: 'POST' }).response, 10_000, 'no answer to a hung request')
    const elapsed = performance.now() - started
    assert.equal(res.status, 504)
    assert.match(String(res.headers['content-type']), /^application\/json/)
    const error = JSON.parse(res.body) as CrashlessErrorBody
    assert.equal(error.error.code, 'CRASHLESS_ERR_DEADLINE')
    assert.equal(res.headers['x-crashless-request-id'], error.error.requestId)
    assert.ok(elapsed >= REQUEST_MS - 20, `answered after ${elapsed.toFixed(0)} ms, before the deadline`)
    assert.ok(elapsed < REQUEST_MS + 3_000, `answered after ${elapsed.toFixed(0)} ms`)
    const log = await deadlined.waitForLog((l) => l.event === 'deadline' && l.requestId === error.error.requestId)
    assert.equal(log.url, '/never?name=never-1')
    assert.match(String(log.action), /^answered 504/)
    await assertServing(deadlined, 'after-504')
  })

  test('the app sees its request close when the deadline of a POST passes', async () => {
    const res = send(`${deadlined.url}/hold?name=deadline-hold`, { method: 'POST' })
    await gate.arrived('deadline-hold')
    assert.equal((await withTimeout(res.response, 5_000, 'no 504')).status, 504)
    await gate.arrived('deadline-hold:closed', 5_000)
    // The log line can reach the test after the 504 does: wait for it here, so that the next
    // test's slice of the log starts after it (stop 22's CI saw it there on Node 22).
    const log = await deadlined.waitForLog((l) => l.event === 'deadline' && l.url === '/hold?name=deadline-hold')
    assert.match(String(log.action), /^answered 504/)
  })

  test('a GET that never completes is re-run (fresh, then a tripled deadline), then 500 CRASHLESS_ERR_POISON after about five requestMs; the app sees its request close', async () => {
    const from = deadlined.logs.length
    const started = performance.now()
    const res = await withTimeout(send(`${deadlined.url}/hold?name=ladder-hold`).response, 10_000, 'no answer to a hung GET')
    const elapsed = performance.now() - started
    assert.equal(res.status, 500, res.body)
    assert.match(String(res.headers['content-type']), /^application\/json/)
    const error = (JSON.parse(res.body) as { error: { code: string; requestId: string; incidentId: string } }).error
    assert.equal(error.code, 'CRASHLESS_ERR_POISON')
    assert.equal(res.headers['x-crashless-request-id'], error.requestId)
    assert.match(error.incidentId, /^inc-/)
    assert.ok(elapsed >= 5 * REQUEST_MS - 20, `answered after ${elapsed.toFixed(0)} ms, before its three deadlines`)
    assert.ok(elapsed < 5 * REQUEST_MS + 3_000, `answered after ${elapsed.toFixed(0)} ms`)
    const verdict = await deadlined.waitForLog((l) => l.event === 'quarantined' && l.incidentId === error.incidentId, 5_000)
    assert.deepEqual(verdict.tried, ['fresh', 'deadline'])
    const deadlines = deadlined.logs.slice(from).filter((l) => l.event === 'deadline' && l.url === '/hold?name=ladder-hold')
    assert.deepEqual(
      deadlines.map((l) => [l.requestId, l.deadlineMs, String(l.action).startsWith('recovery ladder')]),
      [REQUEST_MS, REQUEST_MS, 3 * REQUEST_MS].map((ms) => [error.requestId, ms, true]),
    )
    const refused = await withTimeout(send(`${deadlined.url}/hold?name=ladder-hold`).response, 5_000, 'no answer to a quarantined GET')
    assert.equal(refused.status, 500)
    assert.deepEqual(
      [(JSON.parse(refused.body) as CrashlessErrorBody).error.code, (JSON.parse(refused.body) as { error: { incidentId: string } }).error.incidentId],
      ['CRASHLESS_ERR_QUARANTINED', error.incidentId],
    )
    await assertServing(deadlined, 'after-poison')
    // The first run was told its deadline passed (the re-runs were too, under the same name).
    await gate.arrived('ladder-hold:closed', 5_000)
  })

  test('a response already streaming when the deadline passes is cut, not completed', async () => {
    const streamed = send(`${deadlined.url}/stream?name=deadline-stream`)
    await gate.arrived('deadline-stream')
    await assert.rejects(withTimeout(streamed.response, 5_000, 'the streamed response was neither completed nor cut'), (err: Error) => {
      assert.match(err.message, /aborted|socket hang up|ECONNRESET/)
      return true
    })
    const log = await deadlined.waitForLog((l) => l.event === 'deadline' && l.url === '/stream?name=deadline-stream')
    assert.equal(log.action, 'connection closed')
    await assertServing(deadlined, 'after-cut')
  })
})

describe('clients that go away', () => {
  test('a client that disconnects while its request runs frees the slot at once', async () => {
    const gone = send(`${single.url}/hold?name=gone-running`)
    await gate.arrived('gone-running')
    gone.abort()
    // The app hears of it, as from a real socket close...
    await gate.arrived('gone-running:closed', 5_000)
    // ...and with concurrency 1 and a 30 s deadline, this is only served if the slot was freed.
    await assertServing(single, 'after-running-disconnect')
  })

  test('a client that disconnects while queued is never run, and gives its queue place back', async () => {
    const blocker = send(`${single.url}/hold?name=blocker`)
    await gate.arrived('blocker')
    // The only queue place is taken...
    const queued = send(`${single.url}/hold?name=gone-queued`)
    await queued.flushed
    // ...and given up.
    queued.abort()
    // A round trip through the front (a malformed request it answers itself) so the
    // disconnect, which arrived first, has been seen before the next request comes.
    assert.match((await rawExchange(single.port, 'GARBAGE\r\n\r\n')).text, /^HTTP\/1\.1 400 /)
    const next = send(`${single.url}/hold?name=after-queued`)
    await next.flushed
    gate.release('blocker')
    assert.equal((await withTimeout(blocker.response, 5_000, 'the blocker did not complete')).status, 200)
    const answer = await withTimeout(
      Promise.race([next.response, gate.arrived('after-queued').then(() => null)]),
      5_000,
      'the next request neither ran nor was answered',
    )
    assert.equal(answer, null, `the next request was answered ${answer?.status} ${answer?.body} instead of taking the place given back`)
    // FIFO: had the abandoned request been run, it would have reached the gate before this one.
    assert.equal(gate.seen('gone-queued'), false, 'the abandoned request was run')
    gate.release('after-queued')
    assert.equal((await withTimeout(next.response, 5_000, 'the next request did not complete')).body, 'released after-queued')
  })

  test('a client that disconnects halfway through sending its body', async () => {
    const socket = net.connect(single.port, '127.0.0.1')
    socket.on('error', () => {})
    await new Promise((resolve) => socket.once('connect', resolve))
    await new Promise<void>((resolve) => socket.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(5000), () => resolve()))
    socket.destroy()
    await assertServing(single, 'after-body-disconnect')
  })

  test('a client that disconnects in the middle of a streamed response', async () => {
    const conn = rawConnect(single.port, 'GET /stream?name=gone-streaming HTTP/1.1\r\nHost: t\r\n\r\n')
    await conn.waitFor(/^HTTP\/1\.1 200 OK\r\n[\s\S]*first\n/)
    conn.socket.destroy()
    // Let the handler go on writing into the void.
    await gate.arrived('gone-streaming')
    gate.release('gone-streaming')
    await assertServing(single, 'after-stream-disconnect')
  })

  test('none of it cost an instance or failed a request', () => {
    for (const server of [deadlined, single]) {
      assert.equal(server.child.exitCode, null)
      assert.deepEqual(
        server.logs.filter((l) => l.event === 'instance-lost' || l.event === 'request-failed'),
        [],
      )
    }
  })
})

// Limits enforced by crashless in front of the app: the request body size (413) and the
// per-instance concurrency with its bounded queue (503), set in a config file.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { Agent, request } from 'undici'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { startGate, type Gate } from './gate.js'
import { send, withTimeout, writeConfig, type CrashlessErrorBody } from './http-harness.js'
import { parseHead, rawConnect } from './raw-http.js'

const MAX_BODY = 1024
const agent = new Agent({ connections: 4, headersTimeout: 10_000, bodyTimeout: 10_000 })
let server: CrashlessProcess
let gate: Gate
let config: ReturnType<typeof writeConfig>

before(async () => {
  gate = await startGate()
  config = writeConfig({ limits: { maxBodyBytes: MAX_BODY, concurrency: 1, queue: 2 } })
  server = await startCrashless(fixture('http/node-app.mjs'), ['--instances', '1', '--config', config.file], { env: { GATE_PORT: String(gate.port) } })
})
after(async () => {
  await server?.stop()
  await gate?.close()
  await agent.close()
  config?.cleanup()
})

async function assertServing(): Promise<void> {
  const res = await request(`${server.url}/echo?still=serving`, { dispatcher: agent })
  assert.equal(res.statusCode, 200)
  assert.equal(((await res.body.json()) as { url: string }).url, '/echo?still=serving')
}

function assertTooLarge(status: number, headers: Record<string, string | string[] | undefined>, body: string): void {
  assert.equal(status, 413)
  assert.match(String(headers['content-type']), /^application\/json/)
  const parsed = JSON.parse(body) as CrashlessErrorBody
  assert.equal(parsed.error.code, 'CRASHLESS_ERR_BODY_TOO_LARGE')
  assert.match(parsed.error.message, new RegExp(`${MAX_BODY} bytes`))
}

test('a body of exactly maxBodyBytes is accepted', async () => {
  const res = await request(`${server.url}/echo`, { method: 'POST', body: Buffer.alloc(MAX_BODY, 7), dispatcher: agent })
  assert.equal(res.statusCode, 200)
  assert.equal(((await res.body.json()) as { bodyLength: number }).bodyLength, MAX_BODY)
})

test('a declared content-length over the limit gets 413 JSON, and the server keeps serving', async () => {
  const res = await request(`${server.url}/echo`, { method: 'POST', body: Buffer.alloc(MAX_BODY + 1, 7), dispatcher: agent })
  assertTooLarge(res.statusCode, res.headers, await res.body.text())
  await assertServing()
})

/** One chunk of chunked transfer coding. */
const chunk = (size: number): string => `${size.toString(16)}\r\n${'x'.repeat(size)}\r\n`

test('a chunked body crossing the limit gets 413 as soon as it crosses; the rest is discarded and the connection stays in sync', async () => {
  // Two 600-byte chunks and no terminating chunk: the client is still "sending" when answered.
  const conn = rawConnect(server.port, `POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(600)}${chunk(600)}`)
  await conn.waitFor(/CRASHLESS_ERR_BODY_TOO_LARGE[^]*\}\}$/)
  const head = parseHead(conn.received())
  assert.equal(head.statusLine, 'HTTP/1.1 413 Payload Too Large')
  const headers = Object.fromEntries(head.headers)
  assertTooLarge(413, headers, head.rest)
  assert.equal(Number(headers['content-length']), Buffer.byteLength(head.rest))
  // The client finishes its body, then asks again on the same connection.
  conn.socket.write(`${chunk(5000)}0\r\n\r\nGET /echo?same=connection HTTP/1.1\r\nHost: t\r\n\r\n`)
  await conn.waitFor(/"url":"\/echo\?same=connection"/)
  assert.match(conn.received(), /\}\}HTTP\/1\.1 200 OK\r\n/)
  conn.socket.destroy()
})

test('a client that keeps an oversized body open is cut off after a while', async () => {
  const conn = rawConnect(server.port, `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(2000)}`)
  await conn.waitFor(/CRASHLESS_ERR_BODY_TOO_LARGE/)
  // Never sends the remaining 98,000 bytes.
  await withTimeout(conn.closed, 10_000, 'the connection of a stalled oversized body stayed open')
  await assertServing()
})

test('a chunked body streamed by undici over the limit gets 413', async () => {
  async function* parts(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 4; i++) yield Buffer.alloc(512, i)
  }
  const res = await request(`${server.url}/echo`, { method: 'POST', body: Readable.from(parts()), dispatcher: agent })
  assertTooLarge(res.statusCode, res.headers, await res.body.text())
  await assertServing()
})

/** Polls the admin endpoint's /health until `n` requests are accepted and unanswered (bounded). */
async function untilPending(n: number): Promise<void> {
  const admin = server.logs.find((l) => l.event === 'admin-listening')!.port as number
  for (let i = 0; i < 500; i++) {
    const res = await request(`http://127.0.0.1:${admin}/health`)
    if (((await res.body.json()) as { pending: number }).pending >= n) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`never ${n} requests pending`)
}

test('with concurrency 1 and queue 2, the fourth concurrent request gets 503 + retry-after; the rest complete', async () => {
  // A occupies the only slot of the only instance...
  const a = send(`${server.url}/hold?name=A`)
  await gate.arrived('A')
  // ...B and C fill the queue...
  const b = send(`${server.url}/hold?name=B`)
  const c = send(`${server.url}/hold?name=C`)
  // Sent is not received: connections on different sockets may be read in any order (under a
  // keeper, some are accepted by the keeper and handed over), so wait until crashless has both.
  await untilPending(3)
  // ...so D is turned away at once.
  const d = send(`${server.url}/hold?name=D`)
  const rejected = await withTimeout(d.response, 5_000, 'the overflowing request was not answered')
  assert.equal(rejected.status, 503)
  assert.ok(Number(rejected.headers['retry-after']) >= 1, `retry-after: ${rejected.headers['retry-after']}`)
  assert.match(String(rejected.headers['content-type']), /^application\/json/)
  const error = JSON.parse(rejected.body) as CrashlessErrorBody
  assert.equal(error.error.code, 'CRASHLESS_ERR_OVERLOADED')
  assert.equal(rejected.headers['x-crashless-request-id'], error.error.requestId)
  assert.equal(gate.seen('D'), false, 'the rejected request never reached the app')
  // Concurrency 1: the queued ones have not started.
  assert.equal(gate.seen('B'), false)
  assert.equal(gate.seen('C'), false)

  gate.release('A')
  const first = await withTimeout(a.response, 5_000, 'A did not complete after release')
  assert.deepEqual([first.status, first.body], [200, 'released A'])
  // B and C now run one at a time, in either order: release each as it reaches the gate.
  const released = new Set<string>()
  for (let i = 0; i < 2; i++) {
    const pending = ['B', 'C'].filter((n) => !released.has(n))
    const next = await withTimeout(Promise.any(pending.map((n) => gate.arrived(n).then(() => n))), 5_000, 'a queued request never started')
    const other = pending.find((n) => n !== next)
    if (other) assert.equal(gate.seen(other), false, 'only one request runs at a time')
    released.add(next)
    gate.release(next)
  }
  const [rb, rc] = await withTimeout(Promise.all([b.response, c.response]), 5_000, 'the queued requests did not complete')
  assert.deepEqual([rb.status, rb.body], [200, 'released B'])
  assert.deepEqual([rc.status, rc.body], [200, 'released C'])
  await assertServing()
})

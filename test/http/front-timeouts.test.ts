// The front's own time limits (issue 15 point 5): a request head not received within
// timeouts.headersMs, and a body not received within timeouts.bodyMs (waiting for room in
// limits.bufferedBodyMb included), get 408 with crashless's JSON error and their connection is
// closed. Node answers both with a bare 408 by default; before this, crashless answered 400 after
// Node's defaults (60 s for the head, 300 s for the whole request).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { startGate, type Gate } from './gate.js'
import { send, withTimeout, writeConfig } from './http-harness.js'
import { parseHead, rawConnect, type RawConnection } from './raw-http.js'

const HEADERS_MS = 500
const BODY_MS = 1_000
const MiB = 1024 * 1024

let server: CrashlessProcess
let gate: Gate
let config: ReturnType<typeof writeConfig>

before(async () => {
  gate = await startGate()
  config = writeConfig({ timeouts: { headersMs: HEADERS_MS, bodyMs: BODY_MS }, limits: { bufferedBodyMb: 1 }, log: { level: 'debug' } })
  server = await startCrashless(fixture('http/node-app.mjs'), ['--instances', '1', '--config', config.file], { env: { GATE_PORT: String(gate.port) } })
})
after(async () => {
  await server?.stop()
  await gate?.close()
  config?.cleanup()
})

/** Waits for the connection to close and returns the 408's error, checking its framing. */
async function expect408(conn: RawConnection, startedAt: number): Promise<{ message: string; elapsedMs: number }> {
  await withTimeout(conn.closed, 5_000, 'the connection of a slow request stayed open')
  const elapsedMs = performance.now() - startedAt
  const head = parseHead(conn.received())
  assert.equal(head.statusLine, 'HTTP/1.1 408 Request Timeout')
  const headers = Object.fromEntries(head.headers)
  assert.match(String(headers['content-type']), /^application\/json/)
  assert.equal(headers.connection, 'close')
  assert.equal(Number(headers['content-length']), Buffer.byteLength(head.rest))
  const error = (JSON.parse(head.rest) as { error: { code: string; message: string } }).error
  assert.equal(error.code, 'CRASHLESS_ERR_REQUEST_TIMEOUT')
  return { message: error.message, elapsedMs }
}

async function assertServing(tag: string): Promise<void> {
  const res = await withTimeout(send(`${server.url}/echo?${tag}`, { method: 'POST', body: 'still here' }).response, 5_000, `the server stopped serving (${tag})`)
  assert.equal(res.status, 200)
  assert.equal((JSON.parse(res.body) as { bodyLength: number }).bodyLength, 10)
}

test('a head trickling in slower than timeouts.headersMs gets 408, not 400', async () => {
  const startedAt = performance.now()
  const conn = rawConnect(server.port, 'GET /echo HTTP/1.1\r\nHost: t\r\n')
  // A header byte every 100 ms: progress, but the head is never complete.
  const trickle = setInterval(() => conn.socket.write('x'), 100)
  try {
    const { message, elapsedMs } = await expect408(conn, startedAt)
    assert.match(message, new RegExp(`${HEADERS_MS} ms \\(timeouts\\.headersMs\\)`))
    assert.ok(elapsedMs >= HEADERS_MS - 20, `cut after ${elapsedMs.toFixed(0)} ms`)
    assert.ok(elapsedMs < HEADERS_MS + 1_000, `cut after ${elapsedMs.toFixed(0)} ms`)
  } finally {
    clearInterval(trickle)
  }
  await assertServing('after-slow-head')
})

test('a connection that sends nothing is closed with 408 after timeouts.headersMs, as Node does', async () => {
  const startedAt = performance.now()
  const conn = rawConnect(server.port, '')
  const { elapsedMs } = await expect408(conn, startedAt)
  assert.ok(elapsedMs < HEADERS_MS + 1_000, `cut after ${elapsedMs.toFixed(0)} ms`)
})

test('a body that stops arriving gets 408 after timeouts.bodyMs and its connection is closed', async () => {
  const startedAt = performance.now()
  const conn = rawConnect(server.port, `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n${'x'.repeat(10)}`)
  const { message, elapsedMs } = await expect408(conn, startedAt)
  assert.match(message, new RegExp(`${BODY_MS} ms \\(timeouts\\.bodyMs\\)$`))
  assert.ok(elapsedMs >= BODY_MS - 20, `cut after ${elapsedMs.toFixed(0)} ms`)
  assert.ok(elapsedMs < BODY_MS + 1_000, `cut after ${elapsedMs.toFixed(0)} ms`)
  await server.waitForLog((l) => l.event === 'body-timeout' && l.received === 10 && l.waited === false)
  await assertServing('after-slow-body')
})

test('a body trickling in (a chunk every 100 ms) is cut at timeouts.bodyMs all the same', async () => {
  const startedAt = performance.now()
  const conn = rawConnect(server.port, 'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n')
  const trickle = setInterval(() => conn.socket.write('1\r\nx\r\n'), 100)
  try {
    const { elapsedMs } = await expect408(conn, startedAt)
    assert.ok(elapsedMs >= BODY_MS - 20 && elapsedMs < BODY_MS + 1_000, `cut after ${elapsedMs.toFixed(0)} ms`)
  } finally {
    clearInterval(trickle)
  }
})

test('a body waiting for room in limits.bufferedBodyMb past timeouts.bodyMs gets 408 saying so; room comes back when the holder is answered', async () => {
  // The holder's whole 1 MiB body arrives and its handler waits at the gate: the body stays
  // held (kept for re-serving) until its response is sent.
  const holder = send(`${server.url}/hold?name=holder`, { method: 'POST', body: Buffer.alloc(MiB, 1) })
  await gate.arrived('holder')
  const waiterAt = performance.now()
  const waiter = rawConnect(server.port, `POST /echo?waiter HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n${'w'.repeat(1000)}`)
  const { message, elapsedMs } = await expect408(waiter, waiterAt)
  assert.match(message, /waited for room .*limits\.bufferedBodyMb/)
  assert.ok(elapsedMs >= BODY_MS - 20, `cut after ${elapsedMs.toFixed(0)} ms`)
  await server.waitForLog((l) => l.event === 'body-timeout' && l.url === '/echo?waiter' && l.waited === true && l.received === 0)
  gate.release('holder')
  const answered = await withTimeout(holder.response, 5_000, 'the holder was not answered after release')
  assert.equal(answered.status, 200)
  // A body now fits again: the holder's MiB went back to the budget with its response.
  await assertServing('after-holder')
})

test('a chunked body crossing the whole budget gets 413 naming limits.bufferedBodyMb', async () => {
  const conn = rawConnect(server.port, 'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n')
  const piece = `${(256 * 1024).toString(16)}\r\n${'c'.repeat(256 * 1024)}\r\n`
  for (let i = 0; i < 5; i++) conn.socket.write(piece)
  await conn.waitFor(/\}\}$/)
  const head = parseHead(conn.received())
  assert.equal(head.statusLine, 'HTTP/1.1 413 Payload Too Large')
  assert.match(head.rest, /"code":"CRASHLESS_ERR_BODY_TOO_LARGE".*1 MiB .*limits\.bufferedBodyMb/)
  conn.socket.destroy()
  await assertServing('after-413')
})

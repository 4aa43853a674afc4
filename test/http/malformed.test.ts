// Malformed HTTP over raw sockets: crashless answers 400 (431 for oversized headers) with its
// JSON error, closes the connection, never involves the app, and keeps serving.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { startGate, type Gate } from './gate.js'
import { withTimeout, type CrashlessErrorBody } from './http-harness.js'
import { parseHead, rawConnect, rawExchange } from './raw-http.js'

let server: CrashlessProcess
let gate: Gate

before(async () => {
  gate = await startGate()
  server = await startCrashless(fixture('http/node-app.mjs'), ['--instances', '1'], { env: { GATE_PORT: String(gate.port) } })
})
after(async () => {
  await server?.stop()
  await gate?.close()
})

async function assertRejected(payload: string, status = 400): Promise<void> {
  // Resolves only once the server has closed the connection.
  const { text } = await rawExchange(server.port, payload)
  const head = parseHead(text)
  assert.equal(head.statusLine, `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Request Header Fields Too Large'}`)
  const headers = Object.fromEntries(head.headers)
  assert.equal(headers.connection, 'close')
  assert.equal(Number(headers['content-length']), Buffer.byteLength(head.rest), 'exactly one response, nothing after it')
  assert.equal((JSON.parse(head.rest) as CrashlessErrorBody).error.code, 'CRASHLESS_ERR_BAD_REQUEST')
  // Still serving, on a fresh connection.
  const ok = await rawExchange(server.port, 'GET /echo?after=malformed HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
  assert.match(ok.text, /^HTTP\/1\.1 200 OK\r\n/)
  assert.match(ok.text, /"url":"\/echo\?after=malformed"/)
}

test('a garbage request line gets 400 and the connection is closed', async () => {
  await assertRejected('GARBAGE\r\n\r\n')
})

test('binary junk instead of a request gets 400', async () => {
  await assertRejected('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n')
})

test('an invalid header name (space inside) gets 400', async () => {
  await assertRejected('GET /echo HTTP/1.1\r\nHost: t\r\nBad Header: v\r\n\r\n')
})

test('a header line without a colon gets 400', async () => {
  await assertRejected('GET /echo HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n')
})

test('a NUL byte in a header value gets 400', async () => {
  await assertRejected('GET /echo HTTP/1.1\r\nHost: t\r\nX-Nul: a\x00b\r\n\r\n')
})

test('a non-numeric content-length gets 400', async () => {
  await assertRejected('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n')
})

test('content-length together with transfer-encoding (request smuggling) gets 400', async () => {
  await assertRejected('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
})

test('headers over the size limit get 431', async () => {
  await assertRejected(`GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431)
})

test('garbage pipelined behind a request still in flight: 400 and close, as plain Node does', async () => {
  // Node's parser reads ahead: the garbage is rejected before the app answers the first
  // request, and Node's own default (no response head sent yet) is to answer 400 and close.
  const { text } = await rawExchange(server.port, 'GET /echo?first HTTP/1.1\r\nHost: t\r\n\r\nGARBAGE\r\n\r\n')
  const head = parseHead(text)
  assert.equal(head.statusLine, 'HTTP/1.1 400 Bad Request')
  assert.equal(Number(Object.fromEntries(head.headers)['content-length']), Buffer.byteLength(head.rest), 'exactly one response')
})

test('garbage pipelined behind a response already streaming: the stream is cut, never spliced with a 400', async () => {
  const conn = rawConnect(server.port, 'GET /stream?name=spliced HTTP/1.1\r\nHost: t\r\n\r\n')
  await gate.arrived('spliced')
  // The head and the first chunk are on their way; wait until they are here.
  await conn.waitFor(/first\n/)
  conn.socket.write('GARBAGE\r\n\r\n')
  await withTimeout(conn.closed, 5_000, 'the connection was not closed')
  const received = conn.received()
  const head = parseHead(received)
  assert.equal(head.statusLine, 'HTTP/1.1 200 OK')
  assert.equal(head.rest.includes('HTTP/1.1'), false, `a second status line was written into the streamed body: ${JSON.stringify(head.rest)}`)
  assert.equal(head.rest, '6\r\nfirst\n\r\n')
  gate.release('spliced')
})

test('the process survived all of it', () => {
  assert.equal(server.child.exitCode, null)
  assert.equal(server.logs.some((l) => l.event === 'instance-lost' || l.event === 'request-failed'), false)
})

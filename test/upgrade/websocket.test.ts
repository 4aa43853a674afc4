import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { after, before, describe, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { connect, welcomeThread, type WsClient } from './ws-client.js'

// A child process (isolation: 'process') relays the socket's bytes over IPC instead of postMessage:
// the same behaviour.
for (const isolation of ['worker', 'process'] as const) {
describe(`WebSocket through an unmodified ws server (isolation: ${isolation})`, () => {
  let server: CrashlessProcess
  let wsUrl: string
  const clients: WsClient[] = []
  const open = async (path = '/'): Promise<WsClient> => {
    const client = await connect(`${wsUrl}${path}`)
    clients.push(client)
    return client
  }

  before(async () => {
    server = await startCrashless(fixture('upgrade/ws-echo.mjs'), ['--instances', '2', '--isolation', isolation])
    wsUrl = `ws://127.0.0.1:${server.port}`
  })
  after(async () => {
    for (const client of clients) client.ws.terminate()
    await server?.stop()
  })

  test('the app pushes first, sees the path and the client address, and echoes text and binary', async () => {
    const client = await open('/chat?room=1')
    const welcome = String(await client.next())
    assert.match(welcome, /^welcome \d+ \/chat\?room=1 (::ffff:)?127\.0\.0\.1$/)
    assert.equal(await client.ask('hello'), 'hello')
    const bytes = randomBytes(70_000)
    const echoed = await client.ask(bytes)
    assert.ok(Buffer.isBuffer(echoed), 'binary comes back binary')
    assert.ok(bytes.equals(echoed))
    client.ws.send('push 3')
    assert.deepEqual([await client.next(), await client.next(), await client.next()], ['tick 0', 'tick 1', 'tick 2'])
  })

  test('many messages arrive complete and in order', async () => {
    const client = await open()
    await client.next()
    const count = 2000
    for (let i = 0; i < count; i++) client.ws.send(i % 3 === 0 ? Buffer.from(`b${i}`) : `t${i}`)
    for (let i = 0; i < count; i++) {
      const message = await client.next()
      assert.equal(String(message), i % 3 === 0 ? `b${i}` : `t${i}`)
      assert.equal(Buffer.isBuffer(message), i % 3 === 0)
    }
  })

  test('a client that stops reading holds back the app (backpressure), and gets every byte after', async () => {
    const client = await open()
    const thread = welcomeThread(await client.next())
    // A second connection on the same instance, to watch the app while the first is paused.
    let sibling: WsClient | null = null
    for (let i = 0; i < 8 && !sibling; i++) {
      const candidate = await open()
      if (welcomeThread(await candidate.next()) === thread) sibling = candidate
    }
    assert.ok(sibling, 'no second connection landed on the same instance')
    client.ws.pause()
    client.ws.send('flood 200 65536')
    // The app wrote 12 MB at once. Once the socket buffers are full, the relay must hold the
    // app's writes, which `ws` reports as bufferedAmount; without backpressure it stays 0.
    let pressure = 0
    for (let i = 0; i < 2000 && pressure < 1_000_000; i++) pressure = Number(String(await sibling.ask('pressure')).split(' ')[1])
    assert.ok(pressure >= 1_000_000, `the app never saw backpressure (bufferedAmount ${pressure})`)
    client.ws.resume()
    for (let i = 0; i < 200; i++) {
      const message = await client.next()
      assert.ok(Buffer.isBuffer(message))
      assert.equal(message.length, 65536)
      assert.equal(message[0], i % 256)
      assert.equal(message[65535], i % 256)
    }
    assert.equal(await client.next(), 'flood done')
    assert.equal(await sibling.ask('pressure'), 'pressure 0')
  })

  test('an app that stops reading holds back the client, and gets every byte after', async () => {
    const client = await open()
    const thread = welcomeThread(await client.next())
    let sibling: WsClient | null = null
    for (let i = 0; i < 8 && !sibling; i++) {
      const candidate = await open()
      if (welcomeThread(await candidate.next()) === thread) sibling = candidate
    }
    assert.ok(sibling, 'no second connection landed on the same instance')
    assert.equal(await client.ask('sink'), 'sinking')
    const chunk = Buffer.alloc(1 << 20, 7)
    const total = 32 * chunk.length
    for (let i = 0; i < 32; i++) client.ws.send(chunk)
    // The client's own buffer stops draining once the window is used up and the kernel buffers
    // are full; meanwhile the app must never hold much more than the window unread.
    let last = -1
    let steady = 0
    for (let i = 0; i < 5000 && steady < 20; i++) {
      const inbox = Number(String(await sibling.ask('inbox')).split(' ')[1])
      assert.ok(inbox <= 1.5 * (1 << 20), `the app was sent ${inbox} bytes it had not read`)
      const buffered = client.ws.bufferedAmount
      steady = buffered > 0 && buffered === last ? steady + 1 : 0
      last = buffered
    }
    assert.ok(steady >= 20, `the client was never held back (bufferedAmount ${last})`)
    assert.equal(await sibling.ask('resume-sinks'), 'resumed')
    assert.equal(await client.ask('count'), `count ${total}`)
  })

  test('a close from the client completes the closing handshake', async () => {
    const client = await open()
    await client.next()
    client.ws.close(1000, 'bye')
    assert.deepEqual(await client.closed, { code: 1000, reason: 'bye' })
  })

  test('a close from the app reaches the client with its code and reason', async () => {
    const client = await open()
    await client.next()
    client.ws.send('close-me')
    assert.deepEqual(await client.closed, { code: 4000, reason: 'closing as asked' })
  })

  test('plain HTTP requests are served alongside open connections', async () => {
    const client = await open()
    await client.next()
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`${server.url}/plain/${i}`)))
    for (const [i, res] of responses.entries()) {
      assert.equal(res.status, 200)
      assert.match(await res.text(), new RegExp(`^http GET /plain/${i} from \\d+$`))
    }
    assert.equal(await client.ask('still here'), 'still here')
  })

  test('connections are spread over the instances', async () => {
    const a = await open()
    const b = await open()
    const threads = new Set([welcomeThread(await a.next()), welcomeThread(await b.next())])
    // Each new connection goes to the instance holding the fewest; the earlier tests' open
    // connections are balanced, so two new ones land on different instances.
    assert.equal(threads.size, 2)
  })

  test('SIGTERM closes upgraded connections and the runtime still exits 0', async () => {
    const client = await open()
    await client.next()
    const code = await server.stop()
    assert.equal(code, 0)
    const { code: closeCode } = await client.closed
    assert.equal(closeCode, 1006)
  })
})
}

describe('upgrade requests to an app without upgrade listeners', () => {
  let server: CrashlessProcess

  before(async () => {
    server = await startCrashless(fixture('hello-listen.mjs'), ['--instances', '1'])
  })
  after(async () => {
    await server?.stop()
  })

  test('are served as plain HTTP, as Node serves them', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`${server.url}/no-ws`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } }, resolve)
      req.on('upgrade', () => reject(new Error('the request was upgraded')))
      req.on('error', reject)
    })
    let body = ''
    for await (const chunk of res) body += String(chunk)
    assert.equal(res.statusCode, 200)
    assert.equal(body, 'hello GET /no-ws')
    assert.equal(res.headers.connection, 'close')
  })

  test('with a body they are refused with 501, since the body was never parsed', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${server.url}/upload`, { method: 'POST', headers: { connection: 'Upgrade', upgrade: 'h2c', 'content-length': '5' } }, resolve)
      req.on('error', reject)
      req.end('hello')
    })
    let body = ''
    for await (const chunk of res) body += String(chunk)
    assert.equal(res.statusCode, 501)
    const parsed = JSON.parse(body) as { error: { code: string; requestId: string } }
    assert.equal(parsed.error.code, 'CRASHLESS_ERR_UPGRADE_REFUSED')
    assert.equal(parsed.error.requestId, res.headers['x-crashless-request-id'])
  })

  test('a WebSocket client gets the HTTP answer instead of a handshake', async () => {
    await assert.rejects(connect(`ws://127.0.0.1:${server.port}/`), /Unexpected server response: 200/)
  })
})

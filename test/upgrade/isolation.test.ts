import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { connect, welcomeThread, type WsClient } from './ws-client.js'

let server: CrashlessProcess
let wsUrl: string
const clients: WsClient[] = []

async function open(): Promise<{ client: WsClient; thread: string }> {
  const client = await connect(`${wsUrl}/`)
  clients.push(client)
  return { client, thread: welcomeThread(await client.next()) }
}

before(async () => {
  server = await startCrashless(fixture('upgrade/ws-echo.mjs'), ['--instances', '2'])
  wsUrl = `ws://127.0.0.1:${server.port}`
})
after(async () => {
  for (const client of clients) client.ws.terminate()
  await server?.stop()
})

test('a websocket message that crashes its instance closes only that instance’s connections', async () => {
  const a = await open()
  const b = await open()
  assert.notEqual(a.thread, b.thread, 'the two connections share an instance')
  const a2 = await open()
  const b2 = await open()
  // Two connections on each instance: the crash must take exactly the crashing one's pair.
  assert.deepEqual(new Set([a2.thread, b2.thread]), new Set([a.thread, b.thread]))
  const [sameAsA, sameAsB] = a2.thread === a.thread ? [a2, b2] : [b2, a2]

  a.client.ws.send('crash')
  assert.equal((await a.client.closed).code, 1006)
  assert.equal((await sameAsA.client.closed).code, 1006)
  const lost = await server.waitForLog((l) => l.event === 'connections-lost')
  assert.equal(lost.closed, 2)
  assert.equal(lost.reoffered, 0)
  assert.equal(typeof lost.culprit, 'string', 'the crash is attributed to the connection')
  const instanceLost = await server.waitForLog((l) => l.event === 'instance-lost')
  assert.equal(instanceLost.reason, 'crash')
  assert.equal(instanceLost.instance, lost.instance)

  // The other instance's connections never noticed.
  for (const survivor of [b, sameAsB]) {
    assert.equal(await survivor.client.ask('still alive?'), 'still alive?')
    assert.equal(survivor.client.ws.readyState, survivor.client.ws.OPEN)
  }
  const res = await fetch(`${server.url}/after-crash`)
  assert.equal(res.status, 200)

  // A new connection goes to the spare that replaced the lost instance.
  const c = await open()
  assert.notEqual(c.thread, a.thread)
  assert.notEqual(c.thread, b.thread)
  assert.equal(await c.client.ask('hello'), 'hello')
})

test('an HTTP request that crashes (suppressed) retires its instance, closing only that instance\'s connections', async () => {
  // One fresh connection on each active instance (the spare that replaced the instance lost
  // above was already warm, so two instances are active again).
  const first = await open()
  let second = await open()
  for (let i = 0; i < 6 && second.thread === first.thread; i++) second = await open()
  assert.notEqual(first.thread, second.thread)
  const open1 = [first, second]

  const seen = new Set(server.logs.filter((l) => l.event === 'connections-lost' || l.event === 'instance-lost'))
  const crash = await fetch(`${server.url}/crash`)
  assert.equal(crash.status, 500)
  // The crash is suppressed: the instance is tainted, and once it holds no HTTP request it
  // retires, ending the upgraded connections it still carried.
  const crashed = await server.waitForLog((l) => l.event === 'request-crashed' && l.requestId === crash.headers.get('x-crashless-request-id'))
  const lost = await server.waitForLog((l) => l.event === 'connections-lost' && !seen.has(l))
  assert.equal(lost.instance, crashed.instance)
  assert.equal(lost.reason, 'retired')
  assert.equal(lost.culprit, null, 'no connection is blamed for a request’s crash')
  // Exactly one of the two instances retired: its connection closes, the other echoes on.
  const closedIndex = await Promise.race(open1.map((o, i) => o.client.closed.then(() => i)))
  const survivor = open1[1 - closedIndex]!
  assert.equal(await survivor.client.ask('unaffected'), 'unaffected')
  assert.equal(survivor.client.ws.readyState, survivor.client.ws.OPEN)
})

test('a crash in a timer the connection started is attributed to that connection', async () => {
  const seen = new Set(server.logs.filter((l) => l.event === 'connections-lost'))
  const d = await open()
  d.client.ws.send('crash-later')
  assert.equal((await d.client.closed).code, 1006)
  const lost = await server.waitForLog((l) => l.event === 'connections-lost' && !seen.has(l))
  assert.equal(typeof lost.culprit, 'string')
  assert.ok((lost.closed as number) >= 1)
})

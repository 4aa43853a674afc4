// Streaming responses through crashless: chunks reach the client while the handler is still
// running, for a node:http listen() script (res.write) and a fetch-style app (ReadableStream).
// Proof of streaming is causal, not timed: the handler cannot write its last chunk until the
// test, having received the first one, opens the gate.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Agent, request } from 'undici'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { startGate, type Gate } from './gate.js'
import { withTimeout } from './http-harness.js'

const agent = new Agent({ connections: 4, headersTimeout: 10_000, bodyTimeout: 10_000 })
const servers: Record<string, CrashlessProcess> = {}
let gate: Gate

before(async () => {
  gate = await startGate()
  const env = { GATE_PORT: String(gate.port) }
  ;[servers.node, servers.fetch] = await Promise.all([
    startCrashless(fixture('http/node-app.mjs'), ['--instances', '1'], { env }),
    startCrashless(fixture('http/fetch-app.mjs'), ['--instances', '1'], { env }),
  ])
})
after(async () => {
  await Promise.all(Object.values(servers).map((s) => s.stop()))
  await gate?.close()
  await agent.close()
})

/** Server-sent events as the client parsed them, each with the time it arrived. */
interface ReceivedEvent {
  id: string
  event: string
  data: { n: number; sentAt: number }
  receivedAt: number
}

/** Parses a text/event-stream body incrementally, stamping each event when its bytes arrive. */
async function readEvents(body: AsyncIterable<Buffer>): Promise<ReceivedEvent[]> {
  const events: ReceivedEvent[] = []
  let buffered = ''
  for await (const chunk of body) {
    const receivedAt = Date.now()
    buffered += chunk.toString('utf8')
    let end: number
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]))
      events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) as ReceivedEvent['data'], receivedAt })
    }
  }
  assert.equal(buffered, '', 'the stream ended inside an event')
  return events
}

for (const style of ['node', 'fetch'] as const) {
  describe(`${style} app`, () => {
    test('a chunked response: the first chunk arrives before the handler writes the last', async () => {
      const name = `${style}-stream`
      await withTimeout(
        (async () => {
          const res = await request(`${servers[style]!.url}/stream?name=${name}`, { dispatcher: agent })
          assert.equal(res.statusCode, 200)
          assert.equal(res.headers['transfer-encoding'], 'chunked')
          assert.equal(res.headers['content-length'], undefined)
          let text = ''
          let beforeRelease: string | null = null
          for await (const chunk of res.body) {
            text += (chunk as Buffer).toString('utf8')
            if (beforeRelease === null && text.includes('\n')) {
              // The handler is parked at the gate: nothing after "first" can have been written.
              await gate.arrived(name)
              beforeRelease = text
              gate.release(name)
            }
          }
          assert.equal(beforeRelease, 'first\n')
          assert.equal(text, style === 'node' ? 'first\nsecond\nlast\n' : 'first\nlast\n')
        })(),
        10_000,
        'the first chunk never arrived on its own (is the response buffered?)',
      )
    })

    test('server-sent events reach the client as the timers fire, not when the stream ends', async () => {
      const spacing = 200
      const res = await request(`${servers[style]!.url}/sse?spacing=${spacing}`, { dispatcher: agent })
      assert.equal(res.statusCode, 200)
      assert.equal(res.headers['content-type'], 'text/event-stream')
      assert.equal(res.headers['cache-control'], 'no-cache')
      const events = await withTimeout(readEvents(res.body), 10_000, 'the event stream did not end')
      assert.deepEqual(
        events.map((e) => [e.id, e.event, e.data.n]),
        [
          ['1', 'tick', 1],
          ['2', 'tick', 2],
          ['3', 'tick', 3],
        ],
      )
      // Same machine, same clock: the first event was in the client's hands before the app
      // even produced the last one, so the stream was not held back until the end. (Two
      // spacings of slack: one would be a timing test on a loaded machine.)
      assert.ok(
        events[0]!.receivedAt <= events[2]!.data.sentAt,
        `event 1 arrived at ${events[0]!.receivedAt}, after event 3 was sent at ${events[2]!.data.sentAt}`,
      )
      assert.ok(events[2]!.data.sentAt - events[0]!.data.sentAt >= 2 * spacing - 5, 'the app spaced its events')
    })
  })
}

/**
 * Busy is not hung (issue 9): an ordinary service whose routes do 20, 50 and 200 ms of CPU work
 * each, under 40 and then 150 concurrent connections for 15 s. Plain node serves every request
 * (slowly: the work queues); so must crashless, without losing an instance, suspecting a route,
 * or quarantining anything. Before the fix, an instance given a batch of CPU-bound requests ran
 * them back to back without letting its lease timer tick, was killed as hung, and the route was
 * quarantined within a second.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Agent, request } from 'undici'
import { eventsSince, startWithConfig, stopAll } from './harness.js'

after(stopAll)

const ROUTES = [20, 50, 200]
const PHASE_MS = 15_000

/** What closed-loop clients saw over one phase. */
interface Phase {
  ok: Record<number, number>
  failures: string[]
}

/**
 * `connections` closed loops, each on one of the routes in turn, for `ms` (each loop stops
 * sending once the phase is over; a request already sent is awaited, bounded by the timeouts).
 */
async function runPhase(url: string, connections: number, ms: number): Promise<Phase> {
  // 150 connections on 2 cores queue for seconds: timeouts far above that, still bounded.
  const agent = new Agent({ connections, headersTimeout: 60_000, bodyTimeout: 60_000 })
  const phase: Phase = { ok: { 20: 0, 50: 0, 200: 0 }, failures: [] }
  const until = performance.now() + ms
  const loop = async (c: number): Promise<void> => {
    const cpu = ROUTES[c % ROUTES.length]!
    for (let n = 0; n < 1_000 && performance.now() < until; n++) {
      try {
        const res = await request(`${url}/cpu?ms=${cpu}`, { dispatcher: agent })
        const body = await res.body.text()
        if (res.statusCode === 200 && body.startsWith(`worked ${cpu} ms`)) phase.ok[cpu]!++
        else phase.failures.push(`${cpu} ms: ${res.statusCode} ${body.slice(0, 200)}`)
      } catch (err) {
        phase.failures.push(`${cpu} ms: ${(err as Error).message}`)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: connections }, (_, c) => loop(c)))
  } finally {
    await agent.close()
  }
  return phase
}

for (const connections of [40, 150]) {
  test(`routes doing 20, 50 and 200 ms of CPU work under ${connections} connections: every request served, no instance lost, nothing quarantined`, async (t) => {
    const server = await startWithConfig({ instances: 2 }, 'busy-app.mjs')
    const from = server.logs.length
    const phase = await runPhase(server.url, connections, PHASE_MS)
    t.diagnostic(`served: ${JSON.stringify(phase.ok)}; failures: ${phase.failures.length}`)

    assert.deepEqual(phase.failures.slice(0, 5), [], `${phase.failures.length} request(s) failed`)
    for (const cpu of ROUTES) assert.ok(phase.ok[cpu]! > 0, `the ${cpu} ms route was served`)
    // A route's first long request may briefly be suspected (nothing is known of it yet), which
    // holds copies until it completes; that is no verdict. Verdicts and losses must not happen.
    for (const event of ['instance-lost', 'quarantined', 'ladder-step', 'request-crashed']) {
      assert.deepEqual(eventsSince(server, from, event), [], `no ${event}: a busy instance is not a hung one`)
    }
  })
}

// An instance is sent one request for each it finishes, so the next one's message is always
// waiting when a handler returns: a port delivers it in the same callback, and before the fix
// the instance ran the next handler at once, again and again, while the answers it had finished
// waited in its outbox for the event loop's check phase (a 200 ms route's answers left in batches
// of up to 13, seconds late). A 300 ms route is the case: past a quarter lease of cost the
// dispatcher keeps one request waiting per instance, sent while the one before it runs. An answer
// must leave before the handler after the next one ends.
test('answers of a CPU-bound route leave when their handler returns, not when the instance runs out of work', async (t) => {
  const server = await startWithConfig({ instances: 2 }, 'busy-app.mjs')
  const agent = new Agent({ connections: 20, headersTimeout: 30_000, bodyTimeout: 30_000 })
  const seen: { endedAt: number; arrivedAt: number }[] = []
  const until = performance.now() + 6_000
  const loop = async (): Promise<void> => {
    for (let n = 0; n < 200 && performance.now() < until; n++) {
      const res = await request(`${server.url}/cpu?ms=300`, { dispatcher: agent })
      await res.body.text()
      assert.equal(res.statusCode, 200)
      seen.push({ endedAt: Number(res.headers['x-ended-at']), arrivedAt: Date.now() })
    }
  }
  try {
    await Promise.all(Array.from({ length: 20 }, loop))
  } finally {
    await agent.close()
  }
  // For each answer: how many handlers ended after its own and before it reached the client.
  const overtaken = seen.map((a) => seen.filter((b) => b.endedAt > a.endedAt && b.endedAt < a.arrivedAt).length).sort((x, y) => x - y)
  const p90 = overtaken[Math.floor(overtaken.length * 0.9)]!
  t.diagnostic(`${seen.length} answers; overtaken by later handlers: median ${overtaken[overtaken.length >> 1]}, p90 ${p90}, max ${overtaken.at(-1)}`)
  assert.ok(seen.length >= 10, `only ${seen.length} answers`)
  assert.ok(p90 <= 1, `answers waited while later handlers ran: p90 ${p90} handlers (${overtaken.join(',')})`)
})

/**
 * A stall on a serving instance is no verdict (issue 9, point 1): a busy instance, or one
 * descheduled on a loaded machine, can look the same. The signature becomes a suspect and its
 * next request runs alone on a sacrificial instance; only a stall there quarantines it. Before,
 * two stalls whose clients had left (the timeouts of a load tool) quarantined a healthy route.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { request } from 'undici'
import { agent, assertCrashlessError, eventsSince, send, startWithConfig, stopAll, waitForEvents } from './harness.js'

after(stopAll)

/** Sends GET `url` and gives up after `ms`, as a client with a short timeout does. */
async function impatient(url: string, ms: number): Promise<string> {
  try {
    const res = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(ms) })
    return `${res.statusCode} ${await res.body.text()}`
  } catch (err) {
    return (err as Error).name
  }
}

test('a loop whose clients leave: the serving stall only makes it a suspect; the stall alone on a sacrificial instance quarantines it', async () => {
  const server = await startWithConfig({ instances: 2, timeouts: { leaseMs: 500, requestMs: 10_000 }, log: { level: 'debug' } }, 'stall-app.mjs')
  const from = server.logs.length

  assert.equal(await impatient(`${server.url}/spin`, 200), 'TimeoutError')
  const [servingLoss] = await waitForEvents(server, from, 'instance-lost', 1)
  assert.equal(servingLoss!.role, 'serving')
  assert.deepEqual(eventsSince(server, from, 'quarantined'), [], 'one stall on a serving instance is no verdict')

  // The next copy is the probe: alone, on a sacrificial instance. Its client leaves too, a little
  // later: a probe whose client left before it even started (a sacrificial instance starting at
  // the lowest priority on a busy machine) proves nothing, and waits for the next copy.
  // On a quiet machine the verdict comes first, and the probe's client gets it.
  const probe = await impatient(`${server.url}/spin`, 2_000)
  assert.match(probe, /^(TimeoutError|500 .*CRASHLESS_ERR_POISON)/)
  // The probe runs at the lowest priority (recovery yields to service): on a busy machine its
  // verdict takes a while, which the default 5 s wait does not allow.
  const losses = await waitForEvents(server, from, 'instance-lost', 2, 30_000)
  assert.deepEqual(
    losses.map((l) => l.role),
    ['serving', 'sacrificial'],
    `one serving instance, then the probe alone on a sacrificial one; lost: ${JSON.stringify(losses.map((l) => [l.role, l.reason, l.instance]))}`,
  )
  const verdicts = await waitForEvents(server, from, 'quarantined', 1, 30_000)
  assert.equal(verdicts.length, 1)
  // Client gone: the stall alone is blamed on the signature; client still there: the ladder's
  // exclusive rung (alone too) gives the verdict. Never the serving stall.
  assert.match(String(verdicts[0]!.lastFailure), probe === 'TimeoutError' ? /alone/ : /^lease-expired/, 'the verdict rests on the stall alone')

  const refused = await send(`${server.url}/spin`)
  assertCrashlessError(refused, 500, 'CRASHLESS_ERR_QUARANTINED')
  const ok = await send(`${server.url}/ok`)
  assert.equal(`${ok.status} ${ok.body}`, '200 ok')
})

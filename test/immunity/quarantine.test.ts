/**
 * A request signature that keeps crashing the app is quarantined: after `immunity.threshold`
 * attributed failures, the next request with that signature is refused at once, without
 * reaching an instance, while other requests (even to the same route with another query) run.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { assertCrashlessError, assertStillServing, eventsSince, send, startWithConfig, stopAll, waitForEvents } from '../faults/harness.js'

after(stopAll)

test('two crashes quarantine a signature; the third request never runs', async () => {
  const server = await startWithConfig({ instances: 2, immunity: { threshold: 2, quarantineMs: 60_000 } })
  const from = server.logs.length
  assertCrashlessError(await send(`${server.url}/fault/throw?v=1`), 500, 'CRASHLESS_ERR_HANDLER')
  assertCrashlessError(await send(`${server.url}/fault/throw?v=1`), 500, 'CRASHLESS_ERR_HANDLER')
  const quarantined = await server.waitForLog((l) => l.event === 'quarantined', 5_000)
  assert.equal(quarantined.signature, 'GET /fault/throw?v=1 #-')
  assert.equal(quarantined.failures, 2)

  const third = await send(`${server.url}/fault/throw?v=1`)
  const thirdId = assertCrashlessError(third, 500, 'CRASHLESS_ERR_QUARANTINED')
  await server.waitForLog((l) => l.event === 'quarantine-hit' && l.requestId === thirdId, 5_000)
  assert.equal(eventsSince(server, from, 'request-crashed').length, 2, 'the quarantined request reached no instance')

  // Another signature on the same route still runs (and crashes on its own).
  assertCrashlessError(await send(`${server.url}/fault/throw?v=2`), 500, 'CRASHLESS_ERR_HANDLER')
  assert.equal((await waitForEvents(server, from, 'request-crashed', 3)).length, 3)
  await assertStillServing(server)
})

test('a loop is quarantined too: the second looping request costs a lease, the third costs nothing', async () => {
  const server = await startWithConfig({ instances: 2, timeouts: { leaseMs: 300, requestMs: 10_000 }, immunity: { threshold: 2, quarantineMs: 60_000 } })
  const from = server.logs.length
  assertCrashlessError(await send(`${server.url}/fault/loop`), 500, 'CRASHLESS_ERR_HANDLER')
  assertCrashlessError(await send(`${server.url}/fault/loop`), 500, 'CRASHLESS_ERR_HANDLER')
  const third = await send(`${server.url}/fault/loop`)
  assertCrashlessError(third, 500, 'CRASHLESS_ERR_QUARANTINED')
  // Refused without running: it cost no instance (a loop that ran would have cost a third).
  // The second loss's log line may trail its response: wait for it, then check no more came.
  await waitForEvents(server, from, 'instance-lost', 2)
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 2)
})

test('a broader signature (immunity.signature.query: "none") quarantines every query variant of a route', async () => {
  const server = await startWithConfig({ instances: 2, immunity: { threshold: 2, quarantineMs: 60_000, signature: { query: 'none' } } })
  const from = server.logs.length
  assertCrashlessError(await send(`${server.url}/fault/throw?v=1`), 500, 'CRASHLESS_ERR_HANDLER')
  assertCrashlessError(await send(`${server.url}/fault/throw?v=2`), 500, 'CRASHLESS_ERR_HANDLER')
  const quarantined = await server.waitForLog((l) => l.event === 'quarantined', 5_000)
  assert.equal(quarantined.signature, 'GET /fault/throw #-')
  assertCrashlessError(await send(`${server.url}/fault/throw?v=3`), 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal((await waitForEvents(server, from, 'request-crashed', 2)).length, 2, 'the third variant never ran')
  await assertStillServing(server)
})

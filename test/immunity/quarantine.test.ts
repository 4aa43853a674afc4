/**
 * Quarantine: a request signature that keeps crashing the app is refused at once, without
 * reaching an instance, while other requests (even to the same route with another query) run.
 * A replayable request gets its verdict from the recovery ladder (see ladder.test.ts); one that
 * cannot be re-run (a POST without an idempotency key), or any request with the ladder turned
 * off, after `immunity.threshold` failures.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { assertCrashlessError, assertStillServing, eventsSince, send, startWithConfig, stopAll, waitForEvents } from '../faults/harness.js'

after(stopAll)

test('with the ladder off, two crashes quarantine a signature; the third request never runs', async () => {
  const server = await startWithConfig({ instances: 2, immunity: { threshold: 2, quarantineMs: 60_000 }, recovery: { ladder: [] } })
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

test('a POST without an idempotency key cannot be re-run: threshold failures quarantine it', async () => {
  const server = await startWithConfig({ instances: 2, immunity: { threshold: 2, quarantineMs: 60_000 } })
  const from = server.logs.length
  assertCrashlessError(await send(`${server.url}/fault/throw?post=1`, { method: 'POST', body: 'a' }), 500, 'CRASHLESS_ERR_HANDLER')
  assertCrashlessError(await send(`${server.url}/fault/throw?post=1`, { method: 'POST', body: 'a' }), 500, 'CRASHLESS_ERR_HANDLER')
  await server.waitForLog((l) => l.event === 'quarantined' && l.signature === 'POST /fault/throw?post=1 #ca978112ca1bbdca', 5_000)
  assertCrashlessError(await send(`${server.url}/fault/throw?post=1`, { method: 'POST', body: 'a' }), 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal(eventsSince(server, from, 'request-crashed').length, 2)
  assert.equal(eventsSince(server, from, 'ladder-step').length, 0)
})

test('a loop: the serving instance and one sacrificial instance under the same lease, then no more', async () => {
  const server = await startWithConfig({ instances: 2, timeouts: { leaseMs: 300, requestMs: 10_000 } })
  const from = server.logs.length
  const first = await send(`${server.url}/fault/loop`)
  assertCrashlessError(first, 500, 'CRASHLESS_ERR_POISON')
  const verdict = await server.waitForLog((l) => l.event === 'quarantined', 5_000)
  assert.deepEqual(verdict.tried, ['exclusive'])
  const lost = await waitForEvents(server, from, 'instance-lost', 2)
  assert.deepEqual(lost.map((l) => [l.role, l.reason]), [['serving', 'lease-expired'], ['sacrificial', 'lease-expired']])
  assertCrashlessError(await send(`${server.url}/fault/loop`), 500, 'CRASHLESS_ERR_QUARANTINED')
  // Refused without running: it cost no instance (a loop that ran would have cost a third).
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 2)
})

test('a broader signature (immunity.signature.query: "none") quarantines every query variant of a route', async () => {
  const server = await startWithConfig({ instances: 2, immunity: { quarantineMs: 60_000, signature: { query: 'none' } } })
  const from = server.logs.length
  assertCrashlessError(await send(`${server.url}/fault/throw?v=1`), 500, 'CRASHLESS_ERR_POISON')
  const quarantined = await server.waitForLog((l) => l.event === 'quarantined', 5_000)
  assert.equal(quarantined.signature, 'GET /fault/throw #-')
  assertCrashlessError(await send(`${server.url}/fault/throw?v=2`), 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal((await waitForEvents(server, from, 'request-crashed', 3)).length, 3, 'the second variant never ran')
  await assertStillServing(server)
})

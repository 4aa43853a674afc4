/**
 * An infinite loop stops the heartbeat: the lease expires and the instance is terminated.
 * A loop entered synchronously inside a handler is blamed on that request (the instance marks
 * the request whose handler is running in shared memory), which gets 500 at once; every other
 * request the instance held is re-served elsewhere when that is safe. A loop entered later
 * (from a timer) cannot be attributed: then every request is re-served, the looping one up to
 * `replay.maxAttempts` times, and it ends with 502 CRASHLESS_ERR_INSTANCE_LOST.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { assertBenignUnharmed, assertCrashlessError, assertStillServing, send, startWithConfig, stopAll, underBenignLoad, waitForEvents } from './harness.js'

const LEASE_MS = 500

after(stopAll)

test('GET /fault/loop: attributed to its request (500), one instance lost, benign requests all answered', async (t) => {
  const server = await startWithConfig({ instances: 2, timeouts: { requestMs: 15_000, leaseMs: LEASE_MS }, replay: { maxAttempts: 3 } })
  const from = server.logs.length
  const started = performance.now()
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/loop`))
  const elapsed = performance.now() - started
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; loop answered after ${elapsed.toFixed(0)} ms`)

  const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
  assertBenignUnharmed(load)
  assert.ok(load.duringFault > 0, 'benign requests were answered while the loop was being dealt with')

  const lost = await waitForEvents(server, from, 'instance-lost', 1)
  assert.equal(lost.length, 1, `the loop costs one instance: ${JSON.stringify(lost)}`)
  assert.equal(lost[0]!.reason, 'lease-expired')
  assert.equal(lost[0]!.culprit, requestId, 'the loop is blamed on its own request')
  // The instance is replaced only once the lease expires, so the answer cannot come sooner.
  assert.ok(elapsed >= LEASE_MS, `answered after ${elapsed} ms`)

  await assertStillServing(server)
})

test('a POST in flight beside someone else\'s loop: 502 without an Idempotency-Key, re-served with one', async (t) => {
  // One instance, so the POSTs and the loop share it.
  const server = await startWithConfig({ instances: 1, timeouts: { requestMs: 15_000, leaseMs: LEASE_MS } })
  const plain = send(`${server.url}/slow-post`, { method: 'POST', body: 'plain' })
  const keyed = send(`${server.url}/slow-post`, { method: 'POST', body: 'keyed', headers: { 'idempotency-key': 'k-1' } })

  // Wait until both POSTs are running in the instance before the loop blocks it.
  for (let polls = 0; ; polls++) {
    assert.ok(polls < 200, 'the slow POSTs never started')
    const running = JSON.parse((await send(`${server.url}/slow-posts-running`)).body) as { running: number }
    if (running.running === 2) break
  }
  const from = server.logs.length
  const loop = await send(`${server.url}/fault/loop`, { method: 'POST', body: 'spin' })

  const loopId = assertCrashlessError(loop, 500, 'CRASHLESS_ERR_HANDLER')
  assertCrashlessError(await plain, 502, 'CRASHLESS_ERR_INSTANCE_LOST')
  const keyedAnswer = await keyed
  assert.equal(keyedAnswer.status, 200, keyedAnswer.body)
  assert.equal(keyedAnswer.body, 'posted keyed')
  t.diagnostic(`keyed POST answered after ${keyedAnswer.ms.toFixed(0)} ms`)

  const lost = await waitForEvents(server, from, 'instance-lost', 1)
  assert.equal(lost.length, 1)
  assert.equal(lost[0]!.reason, 'lease-expired')
  assert.equal(lost[0]!.culprit, loopId)
  // The keyed POST is re-served either as soon as the instance is seen stalled (evacuated) or at
  // the kill; either way once.
  const evacuated = server.logs.filter((l) => l.event === 'evacuated').reduce((n, l) => n + (l.moved as number), 0)
  assert.equal((lost[0]!.reserved as number) + evacuated, 1, 'the keyed POST was re-served')
  assert.equal(lost[0]!.failed, 2, 'the loop and the plain POST failed')

  await assertStillServing(server)
})

test(
  'a loop entered from a timer beside benign requests that await something: all of them are answered',
  {
    todo:
      'known gap: an unattributed poison request is re-served up to maxAttempts times beside whatever else is ' +
      'dispatched to its next instance; benign requests waiting on a timer there die with it each time and get 502',
  },
  async (t) => {
    const server = await startWithConfig({ instances: 2, timeouts: { requestMs: 15_000, leaseMs: LEASE_MS } })
    const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/loop-later`), { slowMs: 100 })
    t.diagnostic(`benign: ${load.ok} ok, ${load.failures.length} harmed`)
    assertCrashlessError(answer, 502, 'CRASHLESS_ERR_INSTANCE_LOST')
    assertBenignUnharmed(load)
  },
)

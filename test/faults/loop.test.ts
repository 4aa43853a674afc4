/**
 * An infinite loop stops the heartbeat: the lease expires and the instance is terminated.
 * A loop entered synchronously inside a handler is blamed on that request (the instance marks
 * the request whose handler is running in shared memory); every other request the instance held
 * is re-served elsewhere when that is safe. The blamed request, if it is safe to re-run (GET),
 * is re-run once alone on a sacrificial instance under the same lease (the `exclusive` rung: a
 * stall is confirmed there, never lengthened), loops there too and is quarantined (POISON); a
 * POST fails at once (500). A loop entered later (from a
 * timer) cannot be attributed: every request in flight there is re-run alone on a sacrificial
 * instance; the benign ones succeed, the looping one stalls its instance alone (`culprit`) and
 * goes on up the ladder.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import type { LogLine } from '../helpers/crashless-process.js'
import {
  assertBenignUnharmed,
  assertCrashlessError,
  assertPoison,
  assertRefusedUnrun,
  assertStillServing,
  eventsSince,
  laddersSince,
  send,
  startWithConfig,
  stopAll,
  underBenignLoad,
  waitForEvents,
  waitForVerdict,
} from './harness.js'

const LEASE_MS = 500

after(stopAll)

const summarize = (lost: LogLine[]): string => JSON.stringify(lost.map(({ instance, role, reason, culprit, isolated, reserved, failed }) => ({ instance, role, reason, culprit, isolated, reserved, failed })))

// In a child process (isolation: 'process') the lease is read from a file, not shared memory: the
// same blame, the same verdict.
for (const isolation of ['worker', 'process'] as const) {
test(`GET /fault/loop (isolation: ${isolation}): blamed on its request, re-run alone under the same lease, POISON after two instances; benign requests all answered`, async (t) => {
  const server = await startWithConfig({ isolation, instances: 2, timeouts: { requestMs: 15_000, leaseMs: LEASE_MS }, replay: { maxAttempts: 3 } })
  const from = server.logs.length
  const started = performance.now()
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/loop`))
  const elapsed = performance.now() - started
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; loop answered after ${elapsed.toFixed(0)} ms`)

  const { requestId, incidentId } = assertPoison(answer)
  assertBenignUnharmed(load)
  assert.ok(load.duringFault > 0, 'benign requests were answered while the loop was being dealt with')

  const lost = await waitForEvents(server, from, 'instance-lost', 2)
  assert.deepEqual(
    lost.map((l) => [l.role, l.reason, l.culprit]),
    [
      ['serving', 'lease-expired', requestId],
      ['sacrificial', 'lease-expired', requestId],
    ],
    summarize(lost),
  )
  // Each instance is killed only when its lease expires.
  assert.ok(elapsed >= 2 * LEASE_MS, `answered after ${elapsed} ms`)
  const verdict = await waitForVerdict(server, incidentId)
  assert.deepEqual(verdict.tried, ['exclusive'])
  assert.equal(verdict.instancesSpent, 2)
  assert.deepEqual(laddersSince(server, from, 'GET /fault/loop #-'), ['exclusive'])
  assert.deepEqual(eventsSince(server, from, 'culprit'), [], 'blamed at once, nothing to isolate')

  await assertRefusedUnrun(server, `${server.url}/fault/loop`, incidentId)
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 2)
})
}

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

test('GET /fault/loop-later (a loop entered from a timer) beside benign requests that await something: all benign answered 200, the culprit isolated and POISON', async (t) => {
  const server = await startWithConfig({ instances: 2, timeouts: { requestMs: 15_000, leaseMs: LEASE_MS } })
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/loop-later`), { slowMs: 100 })
  t.diagnostic(`benign: ${load.ok} ok, ${load.failures.length} harmed, max ${load.maxMs.toFixed(1)} ms; loop answered after ${answer.ms.toFixed(0)} ms`)
  const { requestId, incidentId } = assertPoison(answer)
  assertBenignUnharmed(load)

  // The handler had returned when the loop began: nobody can be blamed for the first loss, so
  // what was in flight there is re-run alone, and the looping request stalls its instance alone.
  const culprit = await server.waitForLog((l) => l.event === 'culprit', 5_000)
  assert.deepEqual([culprit.requestId, culprit.signature, culprit.failure], [requestId, 'GET /fault/loop-later #-', 'lease-expired'])
  // Stalling alone was the confirmation a stall needs: no other rung can cure it.
  const verdict = await waitForVerdict(server, incidentId)
  assert.deepEqual(verdict.tried, ['exclusive'])
  assert.equal(verdict.instancesSpent, 2)
  assert.deepEqual(laddersSince(server, from, 'GET /fault/loop-later #-'), [])
  const lost = await waitForEvents(server, from, 'instance-lost', 2)
  assert.deepEqual(
    lost.map((l) => [l.role, l.reason, l.culprit]),
    [
      ['serving', 'lease-expired', null],
      ['sacrificial', 'lease-expired', requestId],
    ],
    summarize(lost),
  )
  t.diagnostic(`instances lost: ${summarize(lost)}`)
  // Isolated either once the instance is seen stalled (evacuated) or at the kill.
  const isolatedEarly = eventsSince(server, from, 'evacuated').reduce((n, l) => n + (l.isolated as number), 0)
  assert.ok((lost[0]!.isolated as number) + isolatedEarly >= 1, summarize(lost))
  assert.equal(lost[0]!.failed, 0, summarize(lost))

  await assertRefusedUnrun(server, `${server.url}/fault/loop-later`, incidentId)
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 2)
  assert.equal(eventsSince(server, from, 'culprit').length, 1)
})

/**
 * A request whose handler never responds (a promise that never settles) does not block
 * anything else, and no instance is lost for it (its event loop is fine); the instance that held
 * it is replaced quietly (it may hold a lock the request never releases). A POST without an
 * Idempotency-Key (not safe to re-run) gets 504 CRASHLESS_ERR_DEADLINE at `timeouts.requestMs`.
 * A GET goes up the recovery ladder when its deadline passes: re-run on a fresh sacrificial
 * instance, which reports that nothing the request could wait for is pending there
 * (src/host/quiet-watch.ts), so it is quarantined (500 CRASHLESS_ERR_POISON) without waiting out
 * that rung's deadline nor a tripled one, and requests like it that came meanwhile are refused
 * (CRASHLESS_ERR_QUARANTINED) with the same incident. A deadline shorter than the quiet watch
 * needs (50 ms) still goes through both deadlines. never-resolves.test.ts checks the same at a
 * 3 s deadline, beside a slow request that the tripled deadline cures.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import {
  assertBenignUnharmed,
  assertCrashlessError,
  assertPoison,
  assertRefusedUnrun,
  assertStillServing,
  crashlessError,
  eventsSince,
  laddersSince,
  send,
  startWithConfig,
  stopAll,
  underBenignLoad,
  waitForEvents,
  waitForVerdict,
} from './harness.js'

/** Long enough that a fresh re-run is judged quiet (a few 100 ms checks) well within its own deadline. */
const REQUEST_MS = 1_500

let server: CrashlessProcess

before(async () => {
  server = await startWithConfig({ instances: 2, timeouts: { requestMs: REQUEST_MS, leaseMs: 500 } })
})
after(stopAll)

test('POST /fault/hang (not replayable): 504 CRASHLESS_ERR_DEADLINE at requestMs, nothing else affected', async (t) => {
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/hang`, { method: 'POST', body: 'x' }))
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; hang answered after ${answer.ms.toFixed(0)} ms`)

  const requestId = assertCrashlessError(answer, 504, 'CRASHLESS_ERR_DEADLINE')
  assert.ok(answer.ms >= REQUEST_MS - 50, `answered after ${answer.ms} ms, before the deadline`)
  assert.ok(answer.ms < REQUEST_MS + 1_000, `answered after ${answer.ms} ms, long past the deadline`)
  assertBenignUnharmed(load)
  assert.ok(load.duringFault > 0, 'benign requests were answered while the hang was pending')

  const deadline = await server.waitForLog((l) => l.event === 'deadline' && l.requestId === requestId, 5_000)
  assert.match(String(deadline.action), /^answered 504/)
  assert.equal(deadline.deadlineMs, REQUEST_MS)
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'deadline').length, 1)
  assert.deepEqual(eventsSince(server, from, 'ladder-step'), [])
  // A hung request is not a hung instance: its event loop is fine, so nothing is replaced.
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
})

test('GET /fault/hang: one deadline, then a fresh re-run seen waiting on nothing: POISON before its own deadline; nothing else affected', async (t) => {
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/hang`))
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; hang answered after ${answer.ms.toFixed(0)} ms`)

  const { requestId, incidentId } = assertPoison(answer)
  assert.ok(answer.ms >= REQUEST_MS - 50, `answered after ${answer.ms} ms, before its deadline`)
  assertBenignUnharmed(load)
  assert.ok(load.duringFault > 0, 'benign requests were answered while the hang was pending')

  const verdict = await waitForVerdict(server, incidentId)
  assert.equal(verdict.signature, 'GET /fault/hang #-')
  assert.equal(verdict.why, 'never resolves')
  assert.deepEqual(verdict.tried, ['fresh'])
  // The serving instance, retired after the deadline, and the sacrificial one it hung on.
  assert.equal(verdict.instancesSpent, 2)
  assert.deepEqual(laddersSince(server, from, 'GET /fault/hang #-'), ['fresh'])
  const deadlines = eventsSince(server, from, 'deadline')
  assert.deepEqual(
    deadlines.map((l) => [l.requestId, l.deadlineMs, String(l.action).startsWith('recovery ladder')]),
    [[requestId, REQUEST_MS, true]],
  )
  assert.deepEqual(
    eventsSince(server, from, 'never-resolves').map((l) => [l.requestId, l.role]),
    [[requestId, 'sacrificial']],
  )

  await assertRefusedUnrun(server, `${server.url}/fault/hang`, incidentId)
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'deadline').length, 1)
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
})

test('many hung POSTs at once: each gets 504 at requestMs, no instance is lost', async () => {
  const from = server.logs.length
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(`${server.url}/fault/hang?n=${i}`, { method: 'POST', body: 'x' })))
  const ids = answers.map((a) => assertCrashlessError(a, 504, 'CRASHLESS_ERR_DEADLINE'))
  assert.equal(new Set(ids).size, 20, 'every request has its own id')
  await waitForEvents(server, from, 'deadline', 20)
  await assertStillServing(server)
  assert.deepEqual(eventsSince(server, from, 'ladder-step'), [])
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
})

test('many hung GETs alike at once: one ladder for all of them, one POISON and the rest QUARANTINED with its incident', async () => {
  const from = server.logs.length
  const started = performance.now()
  const answers = await Promise.all(Array.from({ length: 20 }, () => send(`${server.url}/fault/hang?many=1`)))
  const elapsed = performance.now() - started
  const codes = answers.map((a) => crashlessError(a).code)
  const poisoned = answers.filter((_, i) => codes[i] === 'CRASHLESS_ERR_POISON')
  assert.equal(poisoned.length, 1, `one verdict: ${JSON.stringify(codes)}`)
  const { incidentId } = assertPoison(poisoned[0]!)
  for (const answer of answers.filter((a) => a !== poisoned[0])) {
    assertCrashlessError(answer, 500, 'CRASHLESS_ERR_QUARANTINED')
    assert.equal(crashlessError(answer).incidentId, incidentId)
  }
  assert.equal(new Set(answers.map((a) => a.requestId)).size, 20, 'every request has its own id')
  assert.ok(elapsed < 2 * REQUEST_MS + 3_000, `answered after ${elapsed.toFixed(0)} ms: the copies waited for one ladder, not each its own`)

  const verdict = await waitForVerdict(server, incidentId)
  assert.deepEqual(verdict.tried, ['fresh'])
  assert.equal(verdict.why, 'never resolves')
  // The serving instances that held copies at their deadline, and the fresh rung's one.
  assert.ok((verdict.instancesSpent as number) <= 3, `${verdict.instancesSpent as number} instances spent`)
  assert.deepEqual(laddersSince(server, from, 'GET /fault/hang?many=1 #-'), ['fresh'])
  await assertRefusedUnrun(server, `${server.url}/fault/hang?many=1`, incidentId)
  await assertStillServing(server)
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
})

test('a ladder run whose deadline is shorter than an instance start still runs: the deadline counts from when it reaches its instance, and the verdict is POISON, not 504', async () => {
  // 50 ms is less than a worker takes to start: every rung waits for its sacrificial instance.
  const quick = await startWithConfig({ instances: 2, timeouts: { requestMs: 50, leaseMs: 1_000 } })
  const from = quick.logs.length
  const answer = await send(`${quick.url}/fault/hang`)
  const { requestId, incidentId } = assertPoison(answer)
  const verdict = await waitForVerdict(quick, incidentId)
  assert.deepEqual(verdict.tried, ['fresh', 'deadline'])
  const deadlines = eventsSince(quick, from, 'deadline')
  assert.deepEqual(
    deadlines.map((l) => [l.requestId, l.deadlineMs, String(l.action).startsWith('recovery ladder'), typeof l.instance]),
    [50, 50, 150].map((ms) => [requestId, ms, true, 'string']),
    'every run reached an instance before its deadline passed',
  )
})

/**
 * Heap exhaustion kills only the instance that reached its cap (`limits.heapMb`), never the
 * runtime, and never a benign request. Growth that keeps the event loop turning cannot be
 * attributed: the requests the instance held are re-run each alone on a sacrificial instance;
 * the innocent succeed, the culprit runs out of heap alone (`culprit`), then on a fresh instance,
 * and is quarantined (POISON) at `immunity.maxCrashes` instances. Growth inside one synchronous
 * handler is blamed on its request at once: a GET goes up the ladder (fresh, then a heap x4 —
 * or, when GC pauses stalled the heartbeat first, a tripled lease), a POST fails at once. With
 * the ladder off, the unattributed loss is re-served up to `replay.maxAttempts` and ends in 502.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import {
  type Answer,
  assertBenignUnharmed,
  assertCrashlessError,
  crashlessError,
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

let server: CrashlessProcess

// A small cap so exhaustion is quick; a lease long enough that GC pauses near the cap are
// not mistaken for a hung event loop.
const CONFIG = { instances: 2, limits: { heapMb: 64 }, timeouts: { requestMs: 20_000, leaseMs: 1_000 }, replay: { maxAttempts: 3 } }

before(async () => {
  server = await startWithConfig(CONFIG)
})
after(stopAll)

const summarize = (lost: typeof server.logs): string => JSON.stringify(lost.map(({ instance, role, reason, culprit, isolated, reserved, failed }) => ({ instance, role, reason, culprit, isolated, reserved, failed })))

test('GET /fault/oom (heap growth that keeps the event loop turning): isolated, the culprit fails alone and fresh, POISON after three instances; benign answered', async (t) => {
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/oom`))
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; fault answered after ${answer.ms.toFixed(0)} ms`)

  const { requestId, incidentId } = assertPoison(answer)
  assertBenignUnharmed(load)

  const lost = await waitForEvents(server, from, 'instance-lost', 3)
  assert.deepEqual(
    lost.map((l) => [l.role, l.reason, l.culprit]),
    [
      ['serving', 'out-of-memory', null],
      ['sacrificial', 'out-of-memory', requestId],
      ['sacrificial', 'out-of-memory', requestId],
    ],
    summarize(lost),
  )
  for (const event of lost) assert.ok(['ERR_WORKER_OUT_OF_MEMORY', 'CRASHLESS_ERR_HEAP_LIMIT'].includes((event.error as { code?: string }).code ?? ''), 'V8 reached the cap, or crashless ended it just before')
  assert.ok((lost[0]!.isolated as number) >= 1, `the requests in flight were isolated, not failed: ${summarize(lost)}`)
  assert.equal(lost[0]!.failed, 0)
  assert.deepEqual(lost.slice(1).map((l) => l.isolated), [0, 0])

  const culprits = eventsSince(server, from, 'culprit')
  assert.deepEqual(culprits.map((l) => [l.requestId, l.signature, l.failure]), [[requestId, 'GET /fault/oom #-', 'out-of-memory']])
  const verdict = await waitForVerdict(server, incidentId)
  assert.equal(verdict.requestId, requestId)
  // Running alone was the exclusive tweak; the heap rung would be a fourth instance.
  assert.deepEqual(verdict.tried, ['exclusive', 'fresh'])
  assert.equal(verdict.instancesSpent, 3)
  assert.deepEqual(laddersSince(server, from, 'GET /fault/oom #-'), ['fresh'])

  await assertRefusedUnrun(server, `${server.url}/fault/oom`, incidentId)
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 3, summarize(eventsSince(server, from, 'instance-lost')))
  assert.equal(eventsSince(server, from, 'culprit').length, 1)
})

test('GET /fault/oom-sync (heap growth inside one synchronous handler): blamed on its request, re-run on sacrificial instances, POISON within three instances', async (t) => {
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/oom-sync`))
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault; fault answered after ${answer.ms.toFixed(0)} ms`)

  const { requestId, incidentId } = assertPoison(answer)
  assertBenignUnharmed(load)
  const verdict = await waitForVerdict(server, incidentId)

  // Near the cap, GC pauses can stall the heartbeat before V8 reports the OOM; the first loss
  // decides which tweaks can cure it: a fresh instance and a larger heap, or a longer lease.
  const first = (await waitForEvents(server, from, 'instance-lost', 1))[0]!
  assert.ok(['out-of-memory', 'lease-expired'].includes(first.reason as string), String(first.reason))
  const tweaks = first.reason === 'out-of-memory' ? ['fresh', 'heap'] : ['deadline']
  const lost = await waitForEvents(server, from, 'instance-lost', 1 + tweaks.length)
  assert.deepEqual(
    lost.map((l) => [l.role, l.culprit]),
    [['serving', requestId], ...tweaks.map(() => ['sacrificial', requestId])],
    summarize(lost),
  )
  for (const event of lost) assert.ok(['out-of-memory', 'lease-expired'].includes(event.reason as string), summarize(lost))
  assert.deepEqual(verdict.tried, tweaks)
  assert.equal(verdict.instancesSpent, 1 + tweaks.length)
  assert.deepEqual(laddersSince(server, from, 'GET /fault/oom-sync #-'), tweaks)
  assert.deepEqual(eventsSince(server, from, 'culprit'), [], 'blamed at once, nothing to isolate')

  await assertRefusedUnrun(server, `${server.url}/fault/oom-sync`, incidentId)
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 1 + tweaks.length, summarize(eventsSince(server, from, 'instance-lost')))
})

test('copies of a heap bomb already running on every serving instance count too: the signature costs at most immunity.maxCrashes instances (issue 9.4)', async (t) => {
  const from = server.logs.length
  // A new signature (its own query), sent 3 times at once: copies run on both serving instances
  // before the first loss opens the trial.
  const url = `${server.url}/fault/oom-sync?copies=3`
  const answers = await Promise.all(Array.from({ length: 3 }, () => send(url)))
  const codes = answers.map((a) => crashlessError(a).code)
  t.diagnostic(`answers: ${codes.join(', ')}`)
  assert.ok(codes.every((c) => c === 'CRASHLESS_ERR_POISON' || c === 'CRASHLESS_ERR_QUARANTINED'), codes.join(', '))
  const { incidentId } = assertPoison(answers.find((a) => crashlessError(a).code === 'CRASHLESS_ERR_POISON')!)
  const verdict = await waitForVerdict(server, incidentId)
  const lost = eventsSince(server, from, 'instance-lost')
  t.diagnostic(`lost: ${summarize(lost)}; verdict after ${verdict.instancesSpent as number} instances`)
  assert.ok(lost.length <= 3, `the bomb cost ${lost.length} instances (immunity.maxCrashes is 3): ${summarize(lost)}`)
  assert.ok((verdict.instancesSpent as number) <= 3)
  await assertStillServing(server)
})

test('the same heap bomb every 200 ms under benign load: copies waiting for a sacrificial instance when the verdict comes are refused, not run (at most immunity.maxCrashes instances, issue 9.4)', async (t) => {
  const from = server.logs.length
  const url = `${server.url}/fault/oom-sync?every=200`
  // bench:poison's repeated case: the first copy stalls and bombs a serving instance, the next
  // ones are its probe and the trial's runs; those that wait for their sacrificial instance to
  // start when the verdict comes must not reach it (each would cost one more instance).
  const { fault: answers, load } = await underBenignLoad(server.url, async () => {
    const shots: Promise<Answer>[] = []
    for (let i = 0; i < 8; i++) {
      shots.push(send(url))
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    return Promise.all(shots)
  })
  const codes = answers.map((a) => crashlessError(a).code)
  const lost = eventsSince(server, from, 'instance-lost')
  t.diagnostic(`answers: ${codes.join(', ')}; lost: ${summarize(lost)}`)
  assert.ok(codes.every((c) => c === 'CRASHLESS_ERR_POISON' || c === 'CRASHLESS_ERR_QUARANTINED'), codes.join(', '))
  assert.ok(lost.length <= 3, `the bomb cost ${lost.length} instances (immunity.maxCrashes is 3): ${summarize(lost)}`)
  assertBenignUnharmed(load)
  await assertStillServing(server)
})

test('POST /fault/oom-sync (not replayable): blamed on its request, 500 CRASHLESS_ERR_HANDLER at once, one instance lost', async (t) => {
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/oom-sync`, { method: 'POST', body: 'x' }))
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault; fault answered after ${answer.ms.toFixed(0)} ms`)

  const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
  assertBenignUnharmed(load)
  const lost = await waitForEvents(server, from, 'instance-lost', 1)
  assert.deepEqual(lost.map((l) => [l.role, l.culprit]), [['serving', requestId]], summarize(lost))
  assert.ok(['out-of-memory', 'lease-expired'].includes(lost[0]!.reason as string), String(lost[0]!.reason))

  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 1)
  assert.deepEqual(eventsSince(server, from, 'ladder-step'), [])
})

test('GET /fault/oom with the ladder off (recovery.ladder []): re-served, one instance lost per attempt, 502 after replay.maxAttempts', async (t) => {
  const off = await startWithConfig({ ...CONFIG, recovery: { ladder: [] } })
  const from = off.logs.length
  const { fault: answer, load } = await underBenignLoad(off.url, () => send(`${off.url}/fault/oom`))
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; fault answered after ${answer.ms.toFixed(0)} ms`)

  assertCrashlessError(answer, 502, 'CRASHLESS_ERR_INSTANCE_LOST')
  assertBenignUnharmed(load)

  const lost = await waitForEvents(off, from, 'instance-lost', 3)
  for (const event of lost) {
    assert.equal(event.reason, 'out-of-memory')
    assert.equal(event.role, 'serving')
    assert.equal(event.culprit, null)
    assert.equal(event.isolated, 0)
    assert.ok(['ERR_WORKER_OUT_OF_MEMORY', 'CRASHLESS_ERR_HEAP_LIMIT'].includes((event.error as { code?: string }).code ?? ''), 'V8 reached the cap, or crashless ended it just before')
  }
  assert.equal(lost.at(-1)!.failed, 1, 'the last attempt fails the request for good')

  await assertStillServing(off)
  assert.equal(eventsSince(off, from, 'instance-lost').length, 3, `one lost instance per attempt: ${summarize(eventsSince(off, from, 'instance-lost'))}`)
  assert.deepEqual(eventsSince(off, from, 'ladder-step'), [])
  assert.deepEqual(eventsSince(off, from, 'culprit'), [])
})

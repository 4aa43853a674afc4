/**
 * Heap exhaustion kills only the instance that reached its cap (`limits.heapMb`), never the
 * runtime. Growth inside one synchronous handler is blamed on its request (500 at once, one
 * instance lost). Growth that keeps the event loop turning cannot be attributed: the requests
 * the instance held are re-served, and the one that exhausts the heap does so on every attempt
 * and gets 502 after `maxAttempts`.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { assertBenignUnharmed, assertCrashlessError, assertStillServing, send, startWithConfig, stopAll, underBenignLoad, waitForEvents } from './harness.js'

let server: CrashlessProcess

before(async () => {
  // A small cap so exhaustion is quick; a lease long enough that GC pauses near the cap are
  // not mistaken for a hung event loop.
  server = await startWithConfig({ instances: 2, limits: { heapMb: 64 }, timeouts: { requestMs: 20_000, leaseMs: 1_000 }, replay: { maxAttempts: 3 } })
})
after(stopAll)

test('/fault/oom (heap growth that keeps the event loop turning): runtime survives, benign answered, 502 after maxAttempts', async (t) => {
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/oom`))
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; fault answered after ${answer.ms.toFixed(0)} ms`)

  assertCrashlessError(answer, 502, 'CRASHLESS_ERR_INSTANCE_LOST')
  assertBenignUnharmed(load)

  const lost = await waitForEvents(server, from, 'instance-lost', 3)
  assert.equal(lost.length, 3, `one lost instance per attempt: ${JSON.stringify(lost.map((l) => [l.reason, l.reserved, l.failed]))}`)
  for (const event of lost) {
    assert.equal(event.reason, 'out-of-memory')
    assert.equal(event.culprit, null)
    assert.equal((event.error as { code?: string }).code, 'ERR_WORKER_OUT_OF_MEMORY')
  }
  assert.equal(lost.at(-1)!.failed, 1, 'the last attempt fails the request for good')

  await assertStillServing(server)
})

test('/fault/oom-sync (heap growth inside one synchronous handler): blamed on its request, 500, one instance lost', async (t) => {
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/oom-sync`))
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault; fault answered after ${answer.ms.toFixed(0)} ms`)

  const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
  assertBenignUnharmed(load)

  const lost = await waitForEvents(server, from, 'instance-lost', 1)
  assert.equal(lost.length, 1, JSON.stringify(lost.map((l) => [l.reason, l.culprit])))
  assert.equal(lost[0]!.culprit, requestId)
  // Near the cap, GC pauses can stall the heartbeat first; either way the instance is gone.
  assert.ok(['out-of-memory', 'lease-expired'].includes(lost[0]!.reason as string), String(lost[0]!.reason))

  await assertStillServing(server)
})

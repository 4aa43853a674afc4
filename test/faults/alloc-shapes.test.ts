/**
 * Issue 15, point 2: whatever shape a request's allocation takes, the service survives. The
 * four shapes of nodejs/node#65019, each filling the heap in one synchronous loop: run as plain
 * worker threads on Node 20, the first two end the worker (ERR_WORKER_OUT_OF_MEMORY) and the
 * last two abort the whole process ("Reached heap limit", "CALL_AND_RETRY_LAST"). Under
 * crashless the process's RSS growth inside the stretch is charged to the instance running it,
 * which is ended before V8's limit (memory-watch.ts): the request is blamed, goes up the ladder
 * (fresh, then a heap x4) on sacrificial instances, each watched the same way, and is
 * quarantined; benign requests never notice; the crashless process never dies.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { after, test } from 'node:test'
import { assertBenignUnharmed, assertPoison, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad, waitForVerdict } from './harness.js'

after(stopAll)

// A cap small enough that each shape reaches it in well under a second, even x4 (512 MiB for
// 1e8 elements, which need ~800 MiB); a lease long enough that GC pauses are not mistaken for a hang.
const CONFIG = { instances: 2, limits: { heapMb: 128 }, timeouts: { requestMs: 20_000, leaseMs: 1_000 } }

const SHAPES = [
  ['arrays', 'many separate 10,000-element arrays'],
  ['strings', 'many separate 10,000-character strings'],
  ['huge', 'one new Array(1e8) filled by index'],
  ['push', 'push() 1e8 times onto one array'],
] as const

for (const [shape, what] of SHAPES) {
  test(`GET /alloc/${shape} (${what}): the process survives, benign requests keep succeeding, the request is quarantined`, async (t) => {
    const server = await startWithConfig(CONFIG, 'alloc-app.mjs')
    const from = server.logs.length
    const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/alloc/${shape}`).catch((err: Error) => err))
    const lost = eventsSince(server, from, 'instance-lost')
    t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault; lost: ${JSON.stringify(lost.map((l) => [l.role, l.reason, (l.error as { code?: string } | null)?.code]))}`)

    if (answer instanceof Error) {
      // The connection closed under it: the process is dead or dying; say how, not "other side closed".
      if (server.child.exitCode === null && server.child.signalCode === null) await once(server.child, 'exit')
      assert.fail(`the crashless process died (${server.child.signalCode ?? server.child.exitCode}): ${answer.message}\n${server.output().slice(-1_500)}`)
    }
    const { incidentId } = assertPoison(answer)
    assertBenignUnharmed(load)
    await waitForVerdict(server, incidentId)
    assert.ok(lost.length >= 1, 'the allocating instance was lost')
    for (const event of lost) {
      const code = (event.error as { code?: string } | null)?.code
      assert.ok(event.reason === 'lease-expired' || ['ERR_WORKER_OUT_OF_MEMORY', 'CRASHLESS_ERR_HEAP_LIMIT'].includes(code ?? ''), `${String(event.reason)} ${code}`)
    }
    assert.doesNotMatch(server.output(), /FATAL ERROR/, 'V8 never reached a fatal out-of-memory')
    await assertStillServing(server)
  })
}

/**
 * The heap is published after collections and at the end of each handler that grew it, outside
 * the young generation (host/heap-report.ts): on Node 22 the leak's objects are soon pretenured
 * into the old generation and V8 may not collect for 130 MiB, so figures taken after
 * collections alone first showed this instance past the mark at ~88% of its cap (4 of 6 runs
 * then met the hard mark); and an instance past the mark gets a new request only when no other
 * instance can take it (pool.ts).
 */
test('the leak of issue 15 (50 MiB of small objects per call, 512 MiB heap, 32 benign users): rejuvenated before any memory limit, every request answered', async (t) => {
  const server = await startWithConfig({ instances: 2, limits: { heapMb: 512 } }, 'leak-app.mjs')
  const from = server.logs.length
  const { fault: answers, load } = await underBenignLoad(
    server.url,
    async () => {
      const out = []
      // 36 calls: each keeps ~44 MiB (56 bytes an object on 64-bit V8), 1.6 GiB in all. The two
      // instances live at the end hold under 2 x 384 MiB (the 75% mark), and each one replaced
      // held at most one call past the mark, so at least two must have been rejuvenated.
      for (let i = 0; i < 36; i++) out.push(await send(`${server.url}/leak?mb=50`))
      return out
    },
    { workers: 32 },
  )
  const rejuvenated = eventsSince(server, from, 'rejuvenated')
  t.diagnostic(`benign: ${load.ok} ok; rejuvenated: ${JSON.stringify(rejuvenated.map((l) => [l.instance, l.why, l.heapMb]))}`)
  for (const answer of answers) assert.match(`${answer.status} ${answer.body}`, /^200 kept \d+$/)
  assertBenignUnharmed(load)
  assert.ok(rejuvenated.length >= 2, 'the leaking instances were replaced')
  assert.ok(rejuvenated.every((l) => l.why === 'heap'))
  // On a loaded machine (2 cores, other test processes) a major GC of a 400 MiB heap of small
  // objects can outlast the lease and its GC allowance, which serving instances count in wall
  // time: that costs an instance, and the leak call whose allocation started the collection is
  // re-run elsewhere (every answer above is a 200) and suspected, never quarantined, since a stall
  // on a serving instance is not a verdict (stop 22's CI saw one). What must never happen is a
  // memory limit.
  const lost = eventsSince(server, from, 'instance-lost')
  if (lost.length > 0) t.diagnostic(`lost: ${JSON.stringify(lost.map((l) => [l.instance, l.reason, l.culprit]))}`)
  assert.deepEqual(lost.filter((l) => l.reason !== 'lease-expired'), [], 'no instance reached a memory limit')
  assert.deepEqual(eventsSince(server, from, 'memory-limit'), [])
  assert.deepEqual(eventsSince(server, from, 'quarantined'), [], 'the leak route was not quarantined')
  await assertStillServing(server)
})

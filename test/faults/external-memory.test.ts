/**
 * Issue 15, point 3: memory outside the V8 heap (Buffers, ArrayBuffers), which `limits.heapMb`
 * does not bound. Each instance publishes its own (host/heap-report.ts); past 75% of
 * `limits.externalMb` it is rejuvenated, past the cap while running requests it is ended
 * (CRASHLESS_ERR_EXTERNAL_LIMIT) and what it held is isolated, as for the heap. The process's
 * RSS is watched against `limits.rssMb` (or the cgroup's limit): the instance holding the most
 * is rejuvenated at 90%.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { assertBenignUnharmed, assertPoison, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad, waitForVerdict } from './harness.js'

after(stopAll)

test('a Buffer bomb (16 MiB per event-loop turn, 4 GiB asked) under limits.externalMb 256: ended at the cap, quarantined, benign answered', async (t) => {
  const server = await startWithConfig({ instances: 2, limits: { externalMb: 256 }, timeouts: { requestMs: 20_000 } }, 'alloc-app.mjs')
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/external?mb=4096&step=16`))
  const lost = eventsSince(server, from, 'instance-lost')
  t.diagnostic(`benign: ${load.ok} ok; lost: ${JSON.stringify(lost.map((l) => [l.role, l.reason, l.culprit, (l.error as { code?: string } | null)?.code]))}`)
  const { incidentId } = assertPoison(answer)
  assertBenignUnharmed(load)
  await waitForVerdict(server, incidentId)
  assert.ok(lost.length >= 2, 'the instance it ran on, and sacrificial ones')
  for (const event of lost) {
    assert.equal(event.reason, 'out-of-memory')
    assert.equal((event.error as { code?: string }).code, 'CRASHLESS_ERR_EXTERNAL_LIMIT', JSON.stringify(event.error))
  }
  const limits = eventsSince(server, from, 'memory-limit')
  assert.ok(limits.every((l) => (l.externalMb as number) >= 256 && (l.externalMb as number) < 1024), `ended near the cap, not gigabytes later: ${JSON.stringify(limits.map((l) => l.externalMb))}`)
  await assertStillServing(server)
})

test('an external leak (24 MiB of Buffers kept per request) under limits.externalMb 256: rejuvenated, never lost, every request answered', async (t) => {
  const server = await startWithConfig({ instances: 2, limits: { externalMb: 256 } }, 'alloc-app.mjs')
  const from = server.logs.length
  const { fault: answers, load } = await underBenignLoad(server.url, async () => {
    const out = []
    // 30 x 24 MiB: almost three times what the two instances may hold below the mark together.
    for (let i = 0; i < 30; i++) out.push(await send(`${server.url}/external?mb=24`))
    return out
  })
  const rejuvenated = eventsSince(server, from, 'rejuvenated')
  t.diagnostic(`rejuvenated: ${JSON.stringify(rejuvenated.map((l) => [l.instance, l.why, l.externalMb]))}`)
  for (const answer of answers) assert.match(`${answer.status} ${answer.body}`, /^200 external \d+$/)
  assertBenignUnharmed(load)
  assert.ok(rejuvenated.length >= 2, 'the leaking instances were replaced')
  assert.ok(rejuvenated.every((l) => l.why === 'external' && (l.externalMb as number) >= 192), 'at 75% of limits.externalMb')
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [], 'no instance reached the cap')
  await assertStillServing(server)
})

test('the process nearing limits.rssMb (external cap off): the instance holding the most is rejuvenated, nothing lost', async (t) => {
  // The baseline (main thread, two instances and a spare) is well under 300 MiB; 800 leaves room
  // for about 400 MiB of Buffers before the 90% mark.
  const server = await startWithConfig({ instances: 2, limits: { externalMb: 0, rssMb: 800 } }, 'alloc-app.mjs')
  const from = server.logs.length
  const { fault: answers, load } = await underBenignLoad(server.url, async () => {
    const out = []
    // 16 MiB per request, not 32: the band between the 90% and 95% marks is 40 MiB, and two
    // 32 MiB requests answered between two RSS samples of a loaded supervisor can jump it (in
    // one CI run the instance was ended at 762 of 800 MiB, with no rejuvenation before).
    for (let i = 0; i < 60; i++) out.push(await send(`${server.url}/external?mb=16`))
    return out
  })
  const rejuvenated = eventsSince(server, from, 'rejuvenated')
  t.diagnostic(`rejuvenated: ${JSON.stringify(rejuvenated.map((l) => [l.instance, l.why, l.externalMb, l.rssMb]))}`)
  for (const answer of answers) assert.match(`${answer.status} ${answer.body}`, /^200 external \d+$/)
  assertBenignUnharmed(load)
  assert.ok(rejuvenated.length >= 1, 'the instance holding the Buffers was replaced')
  assert.ok(rejuvenated.every((l) => l.why === 'rss' && (l.rssMb as number) >= 720 && (l.externalMb as number) >= 100), 'at 90% of limits.rssMb, the heaviest')
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
  await assertStillServing(server)
})

/**
 * Proactive rejuvenation (issue 15): an instance whose live heap passes the high-water mark is
 * replaced before V8's limit, which in some allocation shapes aborts the whole process instead
 * of ending the worker (nodejs/node#47224). No request fails for it: the spare takes over, what
 * the instance holds finishes, then it exits. Age and request-count bounds work the same way.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { assertBenignUnharmed, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad } from './harness.js'

after(stopAll)

test('a leak of 16 MiB per request under a 256 MiB heap: instances rejuvenated by heap, never lost, every request answered', async (t) => {
  const server = await startWithConfig({ instances: 2, limits: { heapMb: 256 } }, 'leak-app.mjs')
  const from = server.logs.length
  const { fault: answers, load } = await underBenignLoad(server.url, async () => {
    const out = []
    // 40 x 16 MiB: two and a half times what one instance's heap can hold.
    for (let i = 0; i < 40; i++) out.push(await send(`${server.url}/leak?mb=16`))
    return out
  })
  for (const answer of answers) assert.match(`${answer.status} ${answer.body}`, /^200 kept \d+$/)
  assertBenignUnharmed(load)
  const rejuvenated = eventsSince(server, from, 'rejuvenated')
  t.diagnostic(`rejuvenated: ${JSON.stringify(rejuvenated.map((l) => [l.instance, l.why, l.heapMb]))}`)
  assert.ok(rejuvenated.length >= 2, 'the leaking instances were replaced')
  assert.ok(rejuvenated.every((l) => l.why === 'heap' && (l.heapMb as number) >= 192), 'at 75% of the 256 MiB cap')
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [], 'no instance reached its heap limit')
  await assertStillServing(server)
})

test('maxRequests: instances are replaced after that many requests, none failing', async () => {
  const server = await startWithConfig({ instances: 2, spares: 1, rejuvenate: { maxRequests: 50 } })
  const from = server.logs.length
  const answers = []
  for (let i = 0; i < 300; i++) answers.push(await send(`${server.url}/ok?tag=r${i}`))
  for (const [i, answer] of answers.entries()) assert.equal(`${answer.status} ${answer.body}`, `200 ok r${i}`)
  const rejuvenated = eventsSince(server, from, 'rejuvenated')
  assert.ok(rejuvenated.length >= 2, `replaced ${rejuvenated.length} time(s)`)
  assert.ok(rejuvenated.every((l) => l.why === 'requests' && (l.served as number) >= 50))
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
})

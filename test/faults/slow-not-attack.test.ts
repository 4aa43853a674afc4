/**
 * Slow is not an attack: distinct requests to one route that each run longer than the route had
 * taught the dispatcher are suspected (their stretches pass its limit) and then complete. A
 * suspicion counts for the route's bulkhead at once, so a flood of distinct loops is put apart
 * without waiting a lease per loop; one that completes is taken back. Before, two such requests
 * put the route apart for a whole window (`immunity.bulkhead: 2`), every later request of it
 * running on a sacrificial instance at the lowest priority.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { eventsSince, send, startWithConfig, stopAll } from './harness.js'

after(stopAll)

test('distinct slow requests that complete do not put their route apart, though each was suspected', async (t) => {
  // A long lease, so 1 s of work is far past the first request's learned limit (3 x ~200 ms)
  // and still under half a lease: suspected, never ended.
  const server = await startWithConfig({ instances: 2, timeouts: { leaseMs: 3_000 }, immunity: { bulkhead: 2 } }, 'busy-app.mjs')
  const from = server.logs.length
  for (const ms of [200, 1_000]) {
    const answer = await send(`${server.url}/cpu?ms=${ms}`)
    assert.equal(answer.status, 200, answer.body)
    assert.match(answer.body, new RegExp(`^worked ${ms} ms`))
  }
  const suspects = eventsSince(server, from, 'suspect')
  t.diagnostic(`suspected: ${suspects.map((s) => String(s.signature)).join(', ')}`)
  // Both must have been suspected, or the test proves nothing about taking suspicions back.
  assert.equal(suspects.length, 2, 'each slow request stalled its instance past the limit')
  assert.deepEqual(eventsSince(server, from, 'bulkhead'), [], 'the route was not put apart')
})

/**
 * A request that stalls an instance becomes a suspect as soon as its stretch is abnormal, before
 * its instance is even killed. The next request with the same signature runs alone on a
 * sacrificial instance at once (the probe), the others are held; when the first instance's lease
 * expires the ladder adopts the probe as its confirming run, so the verdict comes about one lease
 * after the probe started, a burst of identical poison costs two instances, not one per
 * request, and the held copies are refused unrun.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { assertBenignUnharmed, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad, waitForEvents } from '../faults/harness.js'

after(stopAll)

test('identical loops arriving while the first stalls an instance are held until its verdict', async () => {
  const server = await startWithConfig({ instances: 2, timeouts: { leaseMs: 400, requestMs: 15_000 }, immunity: { threshold: 2, quarantineMs: 60_000 } })
  const from = server.logs.length
  const { fault, load } = await underBenignLoad(server.url, async () => {
    const first = send(`${server.url}/fault/loop?burst=1`)
    await server.waitForLog((l) => l.event === 'suspect' && l.signature === 'GET /fault/loop?burst=1 #-', 10_000)
    const rest = [send(`${server.url}/fault/loop?burst=1`), send(`${server.url}/fault/loop?burst=1`), send(`${server.url}/fault/loop?burst=1`)]
    return Promise.all([first, ...rest])
  })
  assertBenignUnharmed(load)
  const codes = fault.map((answer) => (JSON.parse(answer.body) as { error: { code: string } }).error.code)
  // The first stalled its instance; one copy ran alone (the probe) and got the verdict; the
  // first and the other copies were held meanwhile and refused.
  assert.equal(codes[0], 'CRASHLESS_ERR_QUARANTINED')
  assert.deepEqual([...codes.slice(1)].sort(), ['CRASHLESS_ERR_POISON', 'CRASHLESS_ERR_QUARANTINED', 'CRASHLESS_ERR_QUARANTINED'])
  // The log line of the second loss may trail its response; wait for it, then check no more came.
  await waitForEvents(server, from, 'instance-lost', 2)
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 2, 'a burst of four identical loops cost two instances')
})

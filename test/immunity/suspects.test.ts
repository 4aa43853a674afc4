/**
 * A request that stalls an instance becomes a suspect at half a lease, before its instance is
 * even killed: requests with the same signature are held back while the recovery ladder tries
 * it (alone, on a sacrificial instance with a longer lease), so a burst of identical poison costs
 * two instances, not one per request, and the held copies are refused unrun.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { assertBenignUnharmed, assertCrashlessError, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad, waitForEvents } from '../faults/harness.js'

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
  // The first ran twice (on its instance, then alone with a longer lease) and got the verdict;
  // the other three were held meanwhile and refused unrun.
  assert.deepEqual(codes, ['CRASHLESS_ERR_POISON', 'CRASHLESS_ERR_QUARANTINED', 'CRASHLESS_ERR_QUARANTINED', 'CRASHLESS_ERR_QUARANTINED'])
  assertCrashlessError(fault[0]!, 500, 'CRASHLESS_ERR_POISON')
  // The log line of the second loss may trail its response; wait for it, then check no more came.
  await waitForEvents(server, from, 'instance-lost', 2)
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 2, 'a burst of four identical loops cost two instances')
})

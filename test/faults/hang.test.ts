/**
 * A request whose handler never responds (a promise that never settles) does not block
 * anything else: it gets 504 CRASHLESS_ERR_DEADLINE at `timeouts.requestMs`, its instance
 * stays in service, and benign requests beside it are answered meanwhile.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { assertBenignUnharmed, assertCrashlessError, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad } from './harness.js'

const REQUEST_MS = 1_500

let server: CrashlessProcess

before(async () => {
  server = await startWithConfig({ instances: 2, timeouts: { requestMs: REQUEST_MS, leaseMs: 500 } })
})
after(stopAll)

for (const method of ['GET', 'POST']) {
  test(`${method} /fault/hang: 504 CRASHLESS_ERR_DEADLINE at requestMs, nothing else affected`, async (t) => {
    const from = server.logs.length
    const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/hang`, { method, ...(method === 'POST' ? { body: 'x' } : {}) }))
    t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; hang answered after ${answer.ms.toFixed(0)} ms`)

    const requestId = assertCrashlessError(answer, 504, 'CRASHLESS_ERR_DEADLINE')
    assert.ok(answer.ms >= REQUEST_MS - 50, `answered after ${answer.ms} ms, before the deadline`)
    assert.ok(answer.ms < REQUEST_MS + 1_000, `answered after ${answer.ms} ms, long past the deadline`)
    assertBenignUnharmed(load)
    assert.ok(load.duringFault > 0, 'benign requests were answered while the hang was pending')

    const deadline = await server.waitForLog((l) => l.event === 'deadline' && l.requestId === requestId, 5_000)
    assert.equal(deadline.action, 'answered 504')
    assert.equal(deadline.deadlineMs, REQUEST_MS)
    // A hung request is not a hung instance: its event loop is fine, so nothing is replaced.
    assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])

    await assertStillServing(server)
  })
}

test('many hung requests at once: each gets 504, the instances stay in service', async () => {
  const from = server.logs.length
  const answers = await Promise.all(Array.from({ length: 20 }, () => send(`${server.url}/fault/hang`)))
  const ids = answers.map((a) => assertCrashlessError(a, 504, 'CRASHLESS_ERR_DEADLINE'))
  assert.equal(new Set(ids).size, 20, 'every request has its own id')
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
  await assertStillServing(server)
})

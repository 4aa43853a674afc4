/**
 * Faults raised inside a request's async context — a sync throw, a throw in a timer, an
 * unhandled rejection, process.exit(), a stack overflow — are attributed to that request:
 * it alone gets 500 CRASHLESS_ERR_HANDLER, its instance is replaced, and the benign
 * requests running beside it are all answered.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { assertBenignUnharmed, assertCrashlessError, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad } from './harness.js'

let server: CrashlessProcess

before(async () => {
  server = await startWithConfig({ instances: 2, timeouts: { requestMs: 10_000, leaseMs: 1_000 } })
})
after(stopAll)

const faults = [
  { path: '/fault/throw', reason: 'crash', error: 'sync throw in the request listener' },
  { path: '/fault/async-throw', reason: 'crash', error: 'throw in a timer callback' },
  { path: '/fault/reject', reason: 'crash', error: 'unhandled rejection' },
  { path: '/fault/exit', reason: 'exit', error: 'process.exit(1) called by the app' },
  { path: '/fault/stack', reason: 'crash', error: 'Maximum call stack size exceeded' },
]

for (const fault of faults) {
  test(`${fault.path}: only the faulty request fails (500 CRASHLESS_ERR_HANDLER), its instance is replaced`, async (t) => {
    const from = server.logs.length
    const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}${fault.path}`))

    const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
    assertBenignUnharmed(load)

    const lost = await server.waitForLog((l) => l.event === 'instance-lost' && l.culprit === requestId, 5_000)
    t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; re-served ${String(lost.reserved)}`)
    assert.equal(lost.reason, fault.reason)
    assert.equal(lost.failed, 1, 'only the culprit failed')
    assert.equal(lost.cut, 0)
    assert.equal((lost.error as { message: string }).message, fault.error)
    // Attribution makes replay unnecessary: the fault costs exactly one instance.
    assert.equal(eventsSince(server, from, 'instance-lost').length, 1)
    assert.equal(eventsSince(server, from, 'request-failed').length, 0)

    await assertStillServing(server)
  })
}

test('a fault that is not replayable by method (POST) is attributed the same way', async () => {
  const answer = await send(`${server.url}/fault/throw`, { method: 'POST', body: 'x' })
  const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
  const lost = await server.waitForLog((l) => l.event === 'instance-lost' && l.culprit === requestId, 5_000)
  assert.equal(lost.reason, 'crash')
  await assertStillServing(server)
})

/**
 * Faults raised inside a request's async context — a sync throw, a throw in a timer, an
 * unhandled rejection, a stack overflow — are attributed to that request and suppressed (SRS):
 * it alone gets 500 CRASHLESS_ERR_HANDLER, its instance keeps serving the requests it holds,
 * takes no new ones, and is replaced by a spare once they are done. process.exit() called in a
 * request's code ends that request the same way (the code after the call never runs).
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

const suppressed = [
  { path: '/fault/throw', kind: 'uncaughtException', error: 'sync throw in the request listener' },
  { path: '/fault/async-throw', kind: 'uncaughtException', error: 'throw in a timer callback' },
  { path: '/fault/reject', kind: 'unhandledRejection', error: 'unhandled rejection' },
  { path: '/fault/stack', kind: 'uncaughtException', error: 'Maximum call stack size exceeded' },
]

for (const fault of suppressed) {
  test(`${fault.path}: suppressed; only the faulty request fails (500), no instance is lost`, async (t) => {
    const from = server.logs.length
    const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}${fault.path}`))

    const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
    assertBenignUnharmed(load)

    const crashed = await server.waitForLog((l) => l.event === 'request-crashed' && l.requestId === requestId, 5_000)
    t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms`)
    assert.equal(crashed.kind, fault.kind)
    assert.equal((crashed.error as { message: string }).message, fault.error)
    assert.deepEqual(eventsSince(server, from, 'instance-lost'), [], 'suppression costs no in-flight request and no crash')
    assert.equal(eventsSince(server, from, 'request-crashed').length, 1)

    await assertStillServing(server)
  })
}

test('/fault/exit: process.exit() in a request ends only that request (suppressed, no instance lost)', async (t) => {
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/fault/exit`))
  const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
  assertBenignUnharmed(load)
  const crashed = await server.waitForLog((l) => l.event === 'request-crashed' && l.requestId === requestId, 5_000)
  t.diagnostic(`benign: ${load.ok} ok`)
  assert.equal(crashed.kind, 'exit')
  assert.equal((crashed.error as { message: string }).message, 'process.exit(1) called by the app')
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
  await assertStillServing(server)
})

test('a POST in flight on the instance where another request crashes completes normally (no re-serve needed)', async () => {
  // One instance, so the POST and the crash share it; the POST has no idempotency key, so it
  // would get 502 if the instance died under it.
  const solo = await startWithConfig({ instances: 1, timeouts: { requestMs: 10_000, leaseMs: 1_000 } })
  const post = send(`${solo.url}/slow-post`, { method: 'POST', body: 'survivor' })
  for (let polls = 0; ; polls++) {
    assert.ok(polls < 200, 'the slow POST never started')
    const running = JSON.parse((await send(`${solo.url}/slow-posts-running`)).body) as { running: number }
    if (running.running === 1) break
  }
  const crash = await send(`${solo.url}/fault/throw`, { method: 'POST', body: 'x' })
  const requestId = assertCrashlessError(crash, 500, 'CRASHLESS_ERR_HANDLER')
  const crashed = await solo.waitForLog((l) => l.event === 'request-crashed' && l.requestId === requestId, 5_000)
  assert.equal(crashed.others, 1, 'the POST was still in flight on the tainted instance')

  const survivor = await post
  assert.equal(survivor.status, 200, survivor.body)
  assert.equal(survivor.body, 'posted survivor')
  // New work went to the spare meanwhile, and the tainted instance left without a loss.
  await assertStillServing(solo)
  assert.deepEqual(solo.logs.filter((l) => l.event === 'instance-lost'), [])
})

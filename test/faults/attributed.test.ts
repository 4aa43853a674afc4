/**
 * Faults raised inside a request's async context — a sync throw, a throw in a timer, an
 * unhandled rejection, a stack overflow, process.exit() — are attributed to that request and
 * suppressed (SRS): its instance keeps serving the requests it holds, takes no new ones, and is
 * replaced by a spare once they are done; no instance is ever lost. A request that is safe to
 * re-run (GET) then goes up the recovery ladder on sacrificial instances (Rx): a crash or exit
 * under `fresh` and `exclusive`, a stack overflow under `stack`; when none cures it, it is
 * quarantined (500 CRASHLESS_ERR_POISON with an incident) after at most `immunity.maxCrashes`
 * instances, and later requests like it are refused unrun. A request that is not safe to re-run
 * (POST without a key), or any request with the ladder off, fails alone at once (500
 * CRASHLESS_ERR_HANDLER).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import {
  assertBenignUnharmed,
  assertCrashlessError,
  assertPoison,
  assertRefusedUnrun,
  assertStillServing,
  crashlessError,
  eventsSince,
  laddersSince,
  send,
  startWithConfig,
  stopAll,
  underBenignLoad,
  waitForEvents,
  waitForVerdict,
} from './harness.js'

let server: CrashlessProcess
/** The same app with its instances in child processes (isolation: 'process'), for a subset. */
let processServer: CrashlessProcess

before(async () => {
  ;[server, processServer] = await Promise.all([
    startWithConfig({ instances: 2, timeouts: { requestMs: 10_000, leaseMs: 1_000 } }),
    startWithConfig({ isolation: 'process', instances: 2, timeouts: { requestMs: 10_000, leaseMs: 1_000 } }),
  ])
})
after(stopAll)

const suppressed = [
  { path: '/fault/throw', kind: 'uncaughtException', error: 'sync throw in the request listener', tweaks: ['fresh', 'exclusive'] },
  { path: '/fault/async-throw', kind: 'uncaughtException', error: 'throw in a timer callback', tweaks: ['fresh', 'exclusive'] },
  { path: '/fault/reject', kind: 'unhandledRejection', error: 'unhandled rejection', tweaks: ['fresh', 'exclusive'] },
  { path: '/fault/exit', kind: 'exit', error: 'process.exit(1) called by the app', tweaks: ['fresh', 'exclusive'] },
  // Only a larger stack can cure an overflow; an infinite recursion overflows that too.
  { path: '/fault/stack', kind: 'uncaughtException', error: 'Maximum call stack size exceeded', tweaks: ['stack'] },
]

// In a child process, the same suppression: a crash in a timer, and process.exit().
const PROCESS_SUBSET = ['/fault/async-throw', '/fault/exit']
// Read through a function: each test shadows `server` with the one of its isolation.
const workerServer = (): CrashlessProcess => server

for (const [isolation, fault] of [...suppressed.map((f) => ['worker', f] as const), ...suppressed.filter((f) => PROCESS_SUBSET.includes(f.path)).map((f) => ['process', f] as const)]) {
  const runs = 1 + fault.tweaks.length
  const at = isolation === 'process' ? ' (isolation: process)' : ''
  test(`GET ${fault.path}${at}: suppressed on every run (${fault.tweaks.join(', ')} on sacrificial instances), then POISON; no instance lost`, async (t) => {
    const server = isolation === 'process' ? processServer : workerServer()
    const from = server.logs.length
    const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}${fault.path}`))
    t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; verdict after ${answer.ms.toFixed(0)} ms`)

    const { requestId, incidentId } = assertPoison(answer)
    assertBenignUnharmed(load)

    const crashed = await waitForEvents(server, from, 'request-crashed', runs)
    const summary = JSON.stringify(crashed.map((l) => [l.requestId, l.instance, l.role, l.kind]))
    assert.deepEqual(crashed.map((l) => l.requestId), Array(runs).fill(requestId), summary)
    assert.deepEqual(crashed.map((l) => l.role), ['serving', ...Array(runs - 1).fill('sacrificial')], `re-runs only on sacrificial instances: ${summary}`)
    assert.equal(new Set(crashed.map((l) => l.instance)).size, runs, `each run on its own instance: ${summary}`)
    for (const event of crashed) {
      assert.equal(event.kind, fault.kind)
      assert.equal((event.error as { message: string }).message, fault.error)
    }

    const verdict = await waitForVerdict(server, incidentId)
    assert.equal(verdict.requestId, requestId)
    assert.deepEqual(verdict.tried, fault.tweaks)
    assert.equal(verdict.instancesSpent, runs)
    assert.deepEqual(laddersSince(server, from, verdict.signature as string), fault.tweaks)
    assert.deepEqual(eventsSince(server, from, 'cured'), [])
    await server.waitForLog((l) => l.event === 'incident' && l.incidentId === incidentId, 5_000)

    await assertRefusedUnrun(server, `${server.url}${fault.path}`, incidentId)
    await assertStillServing(server)
    assert.deepEqual(eventsSince(server, from, 'instance-lost'), [], 'suppression never costs an instance, nor does a re-run')
    assert.equal(eventsSince(server, from, 'request-crashed').length, runs, 'nothing ran after the verdict')
  })

  test(`POST ${fault.path}${at} (not replayable): suppressed, only it fails at once (500 CRASHLESS_ERR_HANDLER), no re-run, no instance lost`, async (t) => {
    const server = isolation === 'process' ? processServer : workerServer()
    const from = server.logs.length
    const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}${fault.path}`, { method: 'POST', body: 'x' }))
    t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault; answered after ${answer.ms.toFixed(0)} ms`)

    const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
    assertBenignUnharmed(load)
    const crashed = await server.waitForLog((l) => l.event === 'request-crashed' && l.requestId === requestId, 5_000)
    assert.equal(crashed.kind, fault.kind)
    assert.equal(crashed.role, 'serving')
    assert.equal((crashed.error as { message: string }).message, fault.error)

    await assertStillServing(server)
    assert.equal(eventsSince(server, from, 'request-crashed').length, 1)
    assert.deepEqual(eventsSince(server, from, 'ladder-step'), [])
    assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
  })
}

test('GET /fault/throw with the ladder off (recovery.ladder []): 500 CRASHLESS_ERR_HANDLER at once, quarantined after immunity.threshold failures', async () => {
  const off = await startWithConfig({ instances: 2, timeouts: { requestMs: 10_000, leaseMs: 1_000 }, recovery: { ladder: [] } })
  const from = off.logs.length
  const url = `${off.url}/fault/throw`
  // The default threshold is 2: the first two fail on their own, the second quarantines.
  const ids = [assertCrashlessError(await send(url), 500, 'CRASHLESS_ERR_HANDLER'), assertCrashlessError(await send(url), 500, 'CRASHLESS_ERR_HANDLER')]
  const crashed = await waitForEvents(off, from, 'request-crashed', 2)
  assert.deepEqual(crashed.map((l) => [l.requestId, l.role]), ids.map((id) => [id, 'serving']))
  const verdict = await off.waitForLog((l) => l.event === 'quarantined', 5_000)
  assert.equal(verdict.failures, 2)
  assert.equal(verdict.incidentId, undefined, 'no ladder, no incident')

  const refused = await send(url)
  assertCrashlessError(refused, 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal(crashlessError(refused).incidentId, undefined)
  await assertStillServing(off)
  assert.equal(eventsSince(off, from, 'request-crashed').length, 2)
  assert.deepEqual(eventsSince(off, from, 'ladder-step'), [])
  assert.deepEqual(eventsSince(off, from, 'instance-lost'), [])
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

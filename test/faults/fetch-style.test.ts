/**
 * The same faults in a fetch-style app (`export default { fetch }`), every one a GET, so safe
 * to re-run. An error the handler throws or rejects with fails only its request and costs no
 * instance (`request-failed`, not re-run: the handler answered, with an error). Errors that
 * escape the handler in its async context are suppressed (`request-crashed`, no instance lost),
 * and so is process.exit(); the request then goes up the recovery ladder (fresh, exclusive) and
 * is quarantined (POISON). A synchronous loop costs the instance and is blamed on its request,
 * which is re-run once alone under the same lease (`exclusive`): a stall is confirmed, never
 * lengthened. Heap growth that keeps the loop turning
 * cannot be blamed: the requests on that instance are re-run alone, the culprit fails alone and
 * goes up the ladder. A hang passes its deadline once; its re-run on a fresh instance is seen
 * waiting on nothing (src/host/quiet-watch.ts) and quarantined before its own deadline.
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
  eventsSince,
  laddersSince,
  send,
  startWithConfig,
  stopAll,
  underBenignLoad,
  waitForEvents,
  waitForVerdict,
} from './harness.js'

const APP = 'faults-fetch.mjs'
const LEASE_MS = 1_000
/** Of the hang's own runtime: one of them, then a fresh run judged quiet well within its own. */
const HANG_REQUEST_MS = 1_500

let server: CrashlessProcess
let hangServer: CrashlessProcess

before(async () => {
  // A lease of 1 s: near the heap cap, back-to-back full GCs can stall a 64 MB heap for more
  // than 500 ms, and the lease would then terminate the instance before V8 reports the OOM.
  // The deadline stays well past the loop's two leases, so the lease ends those runs.
  ;[server, hangServer] = await Promise.all([
    startWithConfig({ instances: 2, limits: { heapMb: 64 }, timeouts: { requestMs: 6_000, leaseMs: LEASE_MS } }, APP),
    startWithConfig({ instances: 2, timeouts: { requestMs: HANG_REQUEST_MS, leaseMs: LEASE_MS } }, APP),
  ])
})
after(stopAll)

type Outcome =
  | { kind: 'request-failed'; error: string }
  | { kind: 'suppressed'; crash: string; error: string }
  | { kind: 'looped' }
  | { kind: 'isolated' }
  | { kind: 'deadline' }

const faults: { path: string; outcome: Outcome }[] = [
  { path: '/fault/throw', outcome: { kind: 'request-failed', error: 'sync throw in the fetch handler' } },
  { path: '/fault/reject', outcome: { kind: 'request-failed', error: 'the fetch handler rejected' } },
  { path: '/fault/stack', outcome: { kind: 'request-failed', error: 'Maximum call stack size exceeded' } },
  { path: '/fault/async-throw', outcome: { kind: 'suppressed', crash: 'uncaughtException', error: 'throw in a timer callback' } },
  { path: '/fault/unhandled', outcome: { kind: 'suppressed', crash: 'unhandledRejection', error: 'unhandled rejection' } },
  { path: '/fault/exit', outcome: { kind: 'suppressed', crash: 'exit', error: 'process.exit(1) called by the app' } },
  { path: '/fault/loop', outcome: { kind: 'looped' } },
  { path: '/fault/oom', outcome: { kind: 'isolated' } },
  { path: '/fault/hang', outcome: { kind: 'deadline' } },
]

const titles: Record<Outcome['kind'], string> = {
  'request-failed': 'the handler failed: 500 CRASHLESS_ERR_HANDLER, not re-run, no instance lost',
  suppressed: 'suppressed on the serving instance and two sacrificial ones (fresh, exclusive), then POISON; no instance lost',
  looped: 'blamed on its request, re-run alone under the same lease, then POISON; two instances lost',
  isolated: 'unattributed: isolated, fails alone (culprit), fresh fails too, then POISON; three instances lost',
  deadline: 'one deadline, then a fresh run seen waiting on nothing: POISON before its own deadline; no instance lost',
}

for (const { path, outcome } of faults) {
  test(`fetch style GET ${path}: ${titles[outcome.kind]}; benign requests unharmed`, async (t) => {
    const target = outcome.kind === 'deadline' ? hangServer : server
    const from = target.logs.length
    const { fault: answer, load } = await underBenignLoad(target.url, () => send(`${target.url}${path}`))
    t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; fault answered after ${answer.ms.toFixed(0)} ms`)
    assertBenignUnharmed(load)
    const lost = (): typeof target.logs => eventsSince(target, from, 'instance-lost')
    const lostSummary = (): string => JSON.stringify(lost().map(({ instance, role, reason, culprit, isolated, reserved, failed }) => ({ instance, role, reason, culprit, isolated, reserved, failed })))
    let lostCount = 0

    if (outcome.kind === 'request-failed') {
      const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
      const failed = await target.waitForLog((l) => l.event === 'request-failed' && l.requestId === requestId, 5_000)
      assert.equal((failed.error as { message: string }).message, outcome.error)
      await assertStillServing(target)
      assert.deepEqual(eventsSince(target, from, 'ladder-step'), [], 'the app answered (with an error): nothing to re-run')
      assert.deepEqual(eventsSince(target, from, 'request-crashed'), [])
      assert.deepEqual(lost(), [], 'a handled failure costs no instance')
      return
    }

    const { requestId, incidentId } = assertPoison(answer)
    const verdict = await waitForVerdict(target, incidentId)
    const signature = verdict.signature as string
    assert.equal(signature, `GET ${path} #-`)
    assert.equal(verdict.requestId, requestId)

    switch (outcome.kind) {
      case 'suppressed': {
        const crashed = await waitForEvents(target, from, 'request-crashed', 3)
        assert.deepEqual(
          crashed.map((l) => [l.requestId, l.role, l.kind, (l.error as { message: string }).message]),
          ['serving', 'sacrificial', 'sacrificial'].map((role) => [requestId, role, outcome.crash, outcome.error]),
        )
        assert.deepEqual(verdict.tried, ['fresh', 'exclusive'])
        assert.equal(verdict.instancesSpent, 3)
        break
      }
      case 'looped': {
        // The serving instance, then a sacrificial one whose lease (3x) ran out as well.
        const events = await waitForEvents(target, from, 'instance-lost', 2)
        assert.deepEqual(
          events.map((l) => [l.role, l.reason, l.culprit]),
          [
            ['serving', 'lease-expired', requestId],
            ['sacrificial', 'lease-expired', requestId],
          ],
          lostSummary(),
        )
        assert.ok(answer.ms >= 2 * LEASE_MS, `answered after ${answer.ms} ms, before two leases could expire`)
        assert.deepEqual(verdict.tried, ['exclusive'])
        assert.equal(verdict.instancesSpent, 2)
        lostCount = 2
        break
      }
      case 'isolated': {
        // The heap grows from setImmediate: the instance cannot tell which request did it.
        const events = await waitForEvents(target, from, 'instance-lost', 3)
        assert.deepEqual(
          events.map((l) => [l.role, l.reason, l.culprit]),
          [
            ['serving', 'out-of-memory', null],
            ['sacrificial', 'out-of-memory', requestId],
            ['sacrificial', 'out-of-memory', requestId],
          ],
          lostSummary(),
        )
        for (const event of events) assert.ok(['ERR_WORKER_OUT_OF_MEMORY', 'CRASHLESS_ERR_HEAP_LIMIT'].includes((event.error as { code?: string }).code ?? ''), 'V8 reached the cap, or crashless ended it just before')
        assert.ok((events[0]!.isolated as number) >= 1, `what was in flight there was isolated: ${lostSummary()}`)
        assert.equal(events[0]!.failed, 0, 'nobody failed for the unattributed loss')
        const culprits = eventsSince(target, from, 'culprit')
        assert.deepEqual(culprits.map((l) => [l.requestId, l.signature]), [[requestId, signature]], 'only the request that grows the heap is the culprit')
        // Running alone counts as the exclusive tweak; then fresh; the heap rung is past the bound.
        assert.deepEqual(verdict.tried, ['exclusive', 'fresh'])
        assert.equal(verdict.instancesSpent, 3)
        lostCount = 3
        break
      }
      case 'deadline': {
        const deadlines = await waitForEvents(target, from, 'deadline', 1)
        assert.deepEqual(
          deadlines.map((l) => [l.requestId, l.deadlineMs, String(l.action).startsWith('recovery ladder')]),
          [[requestId, HANG_REQUEST_MS, true]],
        )
        assert.ok(answer.ms >= HANG_REQUEST_MS - 50, `answered after ${answer.ms} ms, before its deadline`)
        assert.equal(verdict.why, 'never resolves')
        assert.deepEqual(verdict.tried, ['fresh'])
        assert.deepEqual(eventsSince(target, from, 'never-resolves').map((l) => l.requestId), [requestId])
        // Each instance it hung on is retired (a deadlock may live there), none lost.
        assert.equal(verdict.instancesSpent, 2)
        break
      }
    }
    assert.deepEqual(laddersSince(target, from, signature), (verdict.tried as string[]).filter((tweak) => outcome.kind !== 'isolated' || tweak !== 'exclusive'))

    await assertRefusedUnrun(target, `${target.url}${path}`, incidentId)
    await assertStillServing(target)
    assert.equal(lost().length, lostCount, lostSummary())
  })
}

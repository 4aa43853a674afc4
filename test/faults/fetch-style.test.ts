/**
 * The same faults in a fetch-style app (`export default { fetch }`). An error the handler
 * throws or rejects with fails only its request and costs no instance (`request-failed`);
 * errors that escape the handler in its async context are suppressed (`request-crashed`, no
 * instance lost), and so does process.exit() called by the handler; a synchronous loop costs the
 * instance and is blamed on its request; heap growth that keeps the loop turning is re-served up to maxAttempts; a hang gets 504.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { assertBenignUnharmed, assertCrashlessError, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad, waitForEvents } from './harness.js'

const REQUEST_MS = 6_000

let server: CrashlessProcess

before(async () => {
  // A lease of 1 s: near the heap cap, back-to-back full GCs can stall a 64 MB heap for more
  // than 500 ms, and the lease would then terminate the instance before V8 reports the OOM.
  server = await startWithConfig({ instances: 2, limits: { heapMb: 64 }, timeouts: { requestMs: REQUEST_MS, leaseMs: 1_000 } }, 'faults-fetch.mjs')
})
after(stopAll)

type Outcome =
  | { kind: 'request-failed'; error: string }
  | { kind: 'attributed'; reason: string; error: string }
  | { kind: 'suppressed'; error: string }
  | { kind: 'replayed'; reason: string }
  | { kind: 'deadline' }

const faults: { path: string; outcome: Outcome }[] = [
  { path: '/fault/throw', outcome: { kind: 'request-failed', error: 'sync throw in the fetch handler' } },
  { path: '/fault/reject', outcome: { kind: 'request-failed', error: 'the fetch handler rejected' } },
  { path: '/fault/stack', outcome: { kind: 'request-failed', error: 'Maximum call stack size exceeded' } },
  { path: '/fault/async-throw', outcome: { kind: 'suppressed', error: 'throw in a timer callback' } },
  { path: '/fault/unhandled', outcome: { kind: 'suppressed', error: 'unhandled rejection' } },
  { path: '/fault/exit', outcome: { kind: 'suppressed', error: 'process.exit(1) called by the app' } },
  { path: '/fault/loop', outcome: { kind: 'attributed', reason: 'lease-expired', error: '' } },
  { path: '/fault/oom', outcome: { kind: 'replayed', reason: 'out-of-memory' } },
  { path: '/fault/hang', outcome: { kind: 'deadline' } },
]

for (const { path, outcome } of faults) {
  test(`fetch style ${path}: ${outcome.kind}, benign requests unharmed`, async (t) => {
    const from = server.logs.length
    const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}${path}`))
    t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; fault answered after ${answer.ms.toFixed(0)} ms`)
    assertBenignUnharmed(load)
    const lost = (): typeof server.logs => eventsSince(server, from, 'instance-lost')

    switch (outcome.kind) {
      case 'request-failed': {
        const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
        const failed = await server.waitForLog((l) => l.event === 'request-failed' && l.requestId === requestId, 5_000)
        assert.equal((failed.error as { message: string }).message, outcome.error)
        assert.deepEqual(lost(), [], 'a handled failure costs no instance')
        break
      }
      case 'attributed': {
        const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
        const event = await server.waitForLog((l) => l.event === 'instance-lost' && l.culprit === requestId, 5_000)
        assert.equal(event.reason, outcome.reason)
        // A loop leaves no error behind: the instance was terminated from outside.
        if (outcome.error) assert.equal((event.error as { message: string }).message, outcome.error)
        assert.equal(lost().length, 1)
        break
      }
      case 'suppressed': {
        const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_HANDLER')
        const event = await server.waitForLog((l) => l.event === 'request-crashed' && l.requestId === requestId, 5_000)
        assert.equal((event.error as { message: string }).message, outcome.error)
        assert.deepEqual(lost(), [], 'a suppressed crash costs no instance')
        break
      }
      case 'replayed': {
        assertCrashlessError(answer, 502, 'CRASHLESS_ERR_INSTANCE_LOST')
        await waitForEvents(server, from, 'instance-lost', 3)
        const summary = JSON.stringify(lost().map(({ time, instance, reason, reserved, failed }) => ({ time, instance, reason, reserved, failed })))
        assert.deepEqual(lost().map((l) => l.reason), [outcome.reason, outcome.reason, outcome.reason], summary)
        break
      }
      case 'deadline': {
        const requestId = assertCrashlessError(answer, 504, 'CRASHLESS_ERR_DEADLINE')
        assert.ok(answer.ms >= REQUEST_MS - 50, `answered after ${answer.ms} ms`)
        await server.waitForLog((l) => l.event === 'deadline' && l.requestId === requestId, 5_000)
        assert.deepEqual(lost(), [])
      }
    }
    await assertStillServing(server)
  })
}

/**
 * A request that can never finish is judged after one deadline plus a short re-run, and a
 * merely slow one is still cured by the `deadline` tweak (issue 9.4). With `timeouts.requestMs`
 * at 3 s: `GET /fault/hang` (a promise nobody settles) misses its deadline once on a serving
 * instance, is re-run on a fresh sacrificial instance, which reports that nothing the request
 * could wait for is pending there (src/host/quiet-watch.ts), and is quarantined without waiting
 * out that rung's deadline nor a tripled one. `GET /slow?ms=4500` (a timer standing in for a slow
 * database) misses its deadline too, but its re-run has a timer pending: never reported quiet,
 * it is cured by the tripled deadline. Benign requests under a few connections are unharmed
 * throughout. Time is asserted in deadlines waited (counted from the log), and the one
 * wall-clock bound is relative to the configured deadline.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { assertBenignUnharmed, assertPoison, assertRefusedUnrun, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad, waitForVerdict } from './harness.js'

const REQUEST_MS = 3_000

let server: CrashlessProcess

before(async () => {
  server = await startWithConfig({ instances: 2, timeouts: { requestMs: REQUEST_MS } })
})
after(stopAll)

test('GET /fault/hang: quarantined after one deadline and a quiet re-run, not three deadlines', async (t) => {
  const from = server.logs.length
  let sentAt = 0
  const { fault: answer, load } = await underBenignLoad(
    server.url,
    () => {
      sentAt = Date.now()
      return send(`${server.url}/fault/hang`)
    },
    { workers: 4, maxPerWorker: 5_000 },
  )
  t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault; hang answered after ${answer.ms.toFixed(0)} ms`)
  const { requestId, incidentId } = assertPoison(answer)
  assertBenignUnharmed(load)

  const verdict = await waitForVerdict(server, incidentId)
  assert.equal(verdict.why, 'never resolves')
  assert.deepEqual(verdict.tried, ['fresh'])
  assert.equal(verdict.lastFailure, 'never-resolves')
  // One deadline waited (on the serving instance); the re-run was judged before its own.
  const deadlines = eventsSince(server, from, 'deadline').filter((l) => l.requestId === requestId)
  assert.deepEqual(
    deadlines.map((l) => l.deadlineMs),
    [REQUEST_MS],
  )
  const quiet = eventsSince(server, from, 'never-resolves').filter((l) => l.requestId === requestId)
  assert.equal(quiet.length, 1)
  assert.equal(quiet[0]!.role, 'sacrificial')
  const verdictAfter = Date.parse(verdict.time as string) - sentAt
  t.diagnostic(`verdict ${verdictAfter} ms after the request (requestMs ${REQUEST_MS}), ${verdict.verdictMs as number} ms after its deadline`)
  assert.ok(verdictAfter <= REQUEST_MS + 2_000, `verdict ${verdictAfter} ms after the request: more than one deadline and 2 s`)
  assert.ok((verdict.verdictMs as number) < REQUEST_MS, 'the re-run was judged before its own deadline')
  // The serving instance, replaced after the deadline, and the sacrificial one the re-run hung on.
  assert.equal(verdict.instancesSpent, 2)

  await assertRefusedUnrun(server, `${server.url}/fault/hang`, incidentId)
  await assertStillServing(server)
  assert.deepEqual(eventsSince(server, from, 'instance-lost'), [])
})

test('GET /slow?ms=4500: slower than its deadline but finishing, so cured by the deadline tweak, never judged quiet', async (t) => {
  const from = server.logs.length
  const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}/slow?tag=late&ms=4500`), { workers: 4, maxPerWorker: 5_000 })
  t.diagnostic(`benign: ${load.ok} ok; slow answered after ${answer.ms.toFixed(0)} ms`)
  assert.equal(answer.status, 200, answer.body)
  assert.equal(answer.body, 'slow late')
  assertBenignUnharmed(load)

  const cured = await server.waitForLog((l) => l.event === 'cured' && server.logs.indexOf(l) >= from, 5_000)
  assert.equal(cured.tweak, 'deadline')
  assert.deepEqual(eventsSince(server, from, 'never-resolves'), [], 'a request with a timer pending is never judged quiet')
  assert.deepEqual(eventsSince(server, from, 'quarantined'), [])
  // Missed on the serving instance and on the fresh rung; the tripled deadline let it finish.
  assert.deepEqual(
    eventsSince(server, from, 'deadline').map((l) => l.deadlineMs),
    [REQUEST_MS, REQUEST_MS],
  )

  // Cured: the next one goes straight to the tweak that cured it, and is answered.
  const again = await send(`${server.url}/slow?tag=late&ms=4500`)
  assert.equal(again.status, 200, again.body)
  assert.equal(again.body, 'slow late')
  await assertStillServing(server)
})

test('isolation: process: the child process is watched the same way; one deadline, then the verdict', async () => {
  const child = await startWithConfig({ instances: 2, isolation: 'process', timeouts: { requestMs: REQUEST_MS } })
  const from = child.logs.length
  const answer = await send(`${child.url}/fault/hang?in=process`)
  const { requestId, incidentId } = assertPoison(answer)
  const verdict = await waitForVerdict(child, incidentId)
  assert.equal(verdict.why, 'never resolves')
  assert.deepEqual(verdict.tried, ['fresh'])
  assert.deepEqual(
    eventsSince(child, from, 'deadline').map((l) => [l.requestId, l.deadlineMs]),
    [[requestId, REQUEST_MS]],
  )
  assert.ok((verdict.verdictMs as number) < REQUEST_MS, 'the re-run was judged before its own deadline')
})

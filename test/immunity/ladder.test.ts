/**
 * The recovery ladder (Rx): a request that failed is re-run on sacrificial instances under
 * tweaked environments until one cures it; the cure answers the client, is remembered for the
 * signature, and the next request like it goes straight to that environment (issue 3, point 3).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { request } from 'undici'
import { agent, assertCrashlessError, assertStillServing, eventsSince, send, startWithConfig, stopAll, waitForEvents, type Answer } from '../faults/harness.js'

after(stopAll)

const APP = 'ladder-app.mjs'

function assertOk(answer: Answer, body: string | RegExp): void {
  assert.equal(answer.status, 200, `expected 200, got ${answer.status}: ${answer.body}`)
  if (typeof body === 'string') assert.equal(answer.body, body)
  else assert.match(answer.body, body)
}

test('a race is cured by exclusive execution; later requests like it run alone and never fail', async () => {
  // Both serving instances crash before the trial opens, and those count towards maxCrashes: four
  // instances leave the fresh rung and the exclusive one to run (with 3 the fresh rung's failure
  // is the verdict).
  const server = await startWithConfig({ instances: 2, limits: { concurrency: 8 }, immunity: { maxCrashes: 4 } }, APP)
  const from = server.logs.length
  // Four at once on two instances: two of them clash.
  const first = await Promise.all([1, 2, 3, 4].map(() => send(`${server.url}/race`)))
  for (const answer of first) assertOk(answer, 'raced ok')
  const cured = await server.waitForLog((l) => l.event === 'cured' && l.signature === 'GET /race #-', 10_000)
  assert.equal(cured.tweak, 'exclusive', `the fresh rung runs them side by side, so only running alone cures it: ${JSON.stringify(eventsSince(server, from, 'ladder-step'))}`)
  const crashesBefore = eventsSince(server, from, 'request-crashed').length
  assert.ok(crashesBefore >= 2, 'the race did happen')

  const again = await Promise.all([1, 2, 3, 4].map(() => send(`${server.url}/race`)))
  for (const answer of again) assertOk(answer, 'raced ok')
  assert.equal(eventsSince(server, from, 'request-crashed').length, crashesBefore, 'under the cure, no request like it crashed again')
})

test('a leak is cured by a fresh instance: every request succeeds although instances run out of heap', async () => {
  // Rejuvenation would replace the leaking instance before it ran out (test/faults/rejuvenation):
  // at 99% it never does, so the heap runs out and the ladder is what cures it.
  const server = await startWithConfig({ instances: 1, limits: { heapMb: 64 }, rejuvenate: { heapPercent: 99 } }, APP)
  const from = server.logs.length
  const outOfMemory = (): number => eventsSince(server, from, 'instance-lost').filter((l) => l.reason === 'out-of-memory' && l.role === 'serving').length
  // ~6 MB each on a 64 MB heap: one instance runs out within about ten; bounded at 25.
  for (let i = 0; i < 25 && outOfMemory() === 0; i++) {
    assertOk(await send(`${server.url}/leak`), /^leaked \d+$/)
  }
  const lost = await server.waitForLog((l) => l.event === 'instance-lost' && l.reason === 'out-of-memory' && l.role === 'serving', 5_000)
  if (lost.culprit !== null) {
    // Blamed on the request whose handler was allocating: the ladder's first tweak cures it.
    const cured = await server.waitForLog((l) => l.event === 'cured', 5_000)
    assert.deepEqual([cured.tweak, cured.signature], ['fresh', 'GET /leak #-'])
  } else {
    // The heap ran out between handlers: the request in flight was isolated on a sacrificial
    // instance (a fresh one: the pool's spare), where it ran fine; that is the same cure.
    assert.equal(lost.isolated, 1)
    assert.equal(eventsSince(server, from, 'culprit').length, 0)
  }
  assert.equal(eventsSince(server, from, 'quarantined').length, 0, 'a leak is not poison')
})

test('a deep recursion is cured by a larger stack; the next one goes straight to a large-stack instance', async () => {
  const server = await startWithConfig({ instances: 2 }, APP)
  const from = server.logs.length
  assertOk(await send(`${server.url}/deep`), /^deep \d+$/)
  const cured = await server.waitForLog((l) => l.event === 'cured' && l.signature === 'GET /deep #-', 10_000)
  assert.equal(cured.tweak, 'stack')
  const crashed = eventsSince(server, from, 'request-crashed')
  assert.equal(crashed.length, 1, `one overflow, then the stack tweak: ${JSON.stringify(eventsSince(server, from, 'ladder-step'))} ${JSON.stringify(crashed.map((c) => [c.instance, c.role, c.kind]))}`)
  assert.match(JSON.stringify(crashed[0]!.error), /Maximum call stack size exceeded/)

  assertOk(await send(`${server.url}/deep`), /^deep \d+$/)
  assert.equal(eventsSince(server, from, 'request-crashed').length, 1, 'the second one ran under the cure without overflowing')
})

test('a slow request is cured by a longer deadline', async () => {
  const server = await startWithConfig({ instances: 2, timeouts: { requestMs: 400 } }, APP)
  const from = server.logs.length
  assertOk(await send(`${server.url}/slow?ms=700`), 'slow ok')
  const cured = await server.waitForLog((l) => l.event === 'cured' && l.signature === 'GET /slow?ms=700 #-', 10_000)
  assert.equal(cured.tweak, 'deadline')
  const deadlines = eventsSince(server, from, 'deadline').length
  assert.ok(deadlines >= 1)

  // The cure applies at once: no deadline passes for the next one.
  assertOk(await send(`${server.url}/slow?ms=700`), 'slow ok')
  assert.equal(eventsSince(server, from, 'deadline').length, deadlines)
})

test('an instance where a request missed its deadline is replaced: a lock it never releases blocks nobody else', async () => {
  const server = await startWithConfig({ instances: 1, timeouts: { requestMs: 500 } }, APP)
  const from = server.logs.length
  // Not replayable: it gets its 504, and its instance is microrebooted.
  const stuck = await send(`${server.url}/lock-forever`, { method: 'POST', body: 'x' })
  assert.equal(stuck.status, 504, stuck.body)
  const deadline = await server.waitForLog((l) => l.event === 'deadline', 5_000)
  assert.match(String(deadline.action), /instance replaced/)
  // The only instance held the lock; the next request is served by its replacement at once.
  assertOk(await send(`${server.url}/locked`), 'unlocked')
  assertOk(await send(`${server.url}/locked`), 'unlocked')
  assert.equal(eventsSince(server, from, 'deadline').length, 1, 'no request waited on the lock')
})

test('a true poison: fresh and exclusive fail too, so it is quarantined with an incident, after three instances', async () => {
  const server = await startWithConfig({ instances: 2 }, 'faults-app.mjs')
  const from = server.logs.length
  const answer = await send(`${server.url}/fault/throw?case=poison`, { headers: { authorization: 'Bearer s3cret', cookie: 'sid=s3cret' } })
  assert.equal(answer.status, 500, answer.body)
  const error = (JSON.parse(answer.body) as { error: { code: string; incidentId: string } }).error
  assert.equal(error.code, 'CRASHLESS_ERR_POISON')
  assert.match(error.incidentId, /^inc-\d{8}T\d{6}Z-[0-9a-f]{8}$/)
  const verdict = await server.waitForLog((l) => l.event === 'quarantined' && l.incidentId === error.incidentId, 5_000)
  assert.deepEqual(verdict.tried, ['fresh', 'exclusive'])
  assert.equal(verdict.instancesSpent, 3)
  const crashed = await waitForEvents(server, from, 'request-crashed', 3)
  assert.deepEqual(crashed.map((l) => l.role), ['serving', 'sacrificial', 'sacrificial'], 'the re-runs never touched an instance with ordinary traffic')

  // The next one is refused unrun, quoting the same incident.
  const refused = await send(`${server.url}/fault/throw?case=poison`)
  const refusal = (JSON.parse(refused.body) as { error: { code: string; incidentId: string } }).error
  assert.equal(refusal.code, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal(refusal.incidentId, error.incidentId)
  assert.equal(eventsSince(server, from, 'request-crashed').length, 3)

  // The incident is on disk, secrets redacted.
  const written = await server.waitForLog((l) => l.event === 'incident' && l.incidentId === error.incidentId, 5_000)
  const file = join(server.cwd, '.crashless', 'incidents', `${error.incidentId}.json`)
  assert.equal(written.path, join('.crashless', 'incidents', `${error.incidentId}.json`))
  const incident = JSON.parse(readFileSync(file, 'utf8')) as { verdict: string; signature: string; steps: { environment: string; outcome: string }[]; instancesSpent: number; request: { headers: [string, string][] } }
  assert.equal(incident.verdict, 'poison')
  assert.equal(incident.signature, 'GET /fault/throw?case=poison #-')
  assert.deepEqual(incident.steps.map((s) => `${s.environment}:${s.outcome}`), ['original:failed', 'fresh:failed', 'exclusive:failed'])
  assert.equal(incident.instancesSpent, 3)
  const headers = Object.fromEntries(incident.request.headers.map(([name, value]) => [name.toLowerCase(), value]))
  assert.equal(headers.authorization, '[redacted]')
  assert.equal(headers.cookie, '[redacted]')
  assert.doesNotMatch(readFileSync(file, 'utf8'), /s3cret/)
})

test('immunity.maxCrashes bounds what one poison may cost', async () => {
  const server = await startWithConfig({ instances: 2, immunity: { maxCrashes: 2 } }, 'faults-app.mjs')
  const from = server.logs.length
  const answer = await send(`${server.url}/fault/throw?case=bounded`)
  assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'CRASHLESS_ERR_POISON')
  const verdict = await server.waitForLog((l) => l.event === 'quarantined', 5_000)
  assert.equal(verdict.instancesSpent, 2)
  assert.deepEqual(verdict.tried, ['fresh'])
  assert.equal(eventsSince(server, from, 'request-crashed').length, 2)
})

test('a request that is not safe to re-run is not put on the ladder: it fails at once', async () => {
  const server = await startWithConfig({ instances: 2 }, 'faults-app.mjs')
  const from = server.logs.length
  const answer = await send(`${server.url}/fault/throw?case=post`, { method: 'POST', body: 'x' })
  assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'CRASHLESS_ERR_HANDLER')
  await waitForEvents(server, from, 'request-crashed', 1)
  assert.equal(eventsSince(server, from, 'ladder-step').length, 0)
})

test('a route with many distinct failing signatures runs apart: its poison fails on sacrificial instances at once, its good requests still succeed', async () => {
  const server = await startWithConfig({ instances: 2, immunity: { bulkhead: 3 }, recovery: { ladder: ['exclusive'] } }, APP)
  const from = server.logs.length
  for (const v of ['bad1', 'bad2', 'bad3']) {
    const answer = await send(`${server.url}/maybe?v=${v}`)
    assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'CRASHLESS_ERR_POISON')
  }
  const bulkhead = await server.waitForLog((l) => l.event === 'bulkhead', 5_000)
  assert.equal(bulkhead.route, 'GET /maybe')
  const steps = eventsSince(server, from, 'ladder-step').length
  const crashes = (await waitForEvents(server, from, 'request-crashed', 6)).length

  const fourth = await send(`${server.url}/maybe?v=bad4`)
  assert.equal((JSON.parse(fourth.body) as { error: { code: string } }).error.code, 'CRASHLESS_ERR_POISON')
  const crashed = await waitForEvents(server, from, 'request-crashed', crashes + 1)
  assert.equal(crashed.at(-1)!.role, 'sacrificial', 'it ran apart, on a sacrificial instance')
  assert.equal(eventsSince(server, from, 'ladder-step').length, steps, 'no ladder for a route under attack: one failure is the verdict')

  assertOk(await send(`${server.url}/maybe?v=good`), 'fine good')
  assertOk(await send(`${server.url}/ok?tag=x`), 'ok x')
})

test('a probe whose client gives up mid-rung still gets its verdict, from what happens to its instance', async () => {
  const server = await startWithConfig({ instances: 2, timeouts: { leaseMs: 300, requestMs: 10_000 }, log: { level: 'debug' } }, 'faults-app.mjs')
  const from = server.logs.length
  const controller = new AbortController()
  const gaveUp = request(`${server.url}/fault/loop?orphan=1`, { dispatcher: agent, signal: controller.signal }).then(
    () => 'answered',
    () => 'aborted',
  )
  // The loop cost its serving instance; it now runs alone under the same lease (seen standing
  // still there: a run sent but not started yet is dropped by the abort, and proves nothing). The
  // client leaves.
  const run = await server.waitForLog((l) => l.event === 'sacrificial-run' && l.environment === 'exclusive', 5_000)
  await server.waitForLog((l) => l.event === 'stalled-apart' && l.requestId === run.requestId, 5_000)
  controller.abort()
  assert.equal(await gaveUp, 'aborted')
  const verdict = await server.waitForLog((l) => l.event === 'quarantined', 5_000)
  assert.equal(verdict.signature, 'GET /fault/loop?orphan=1 #-')
  assert.equal(verdict.requestId, null, 'nobody left to answer')
  assertCrashlessError(await send(`${server.url}/fault/loop?orphan=1`), 500, 'CRASHLESS_ERR_QUARANTINED')
  const lost = await waitForEvents(server, from, 'instance-lost', 2)
  assert.deepEqual(lost.map((l) => l.role), ['serving', 'sacrificial'])
  await assertStillServing(server)
  assert.equal(eventsSince(server, from, 'instance-lost').length, 2, 'two instances, as if the client had stayed')
})

/**
 * Requests with an `Idempotency-Key`: a retry of one that committed gets the recorded response
 * and the app does not run again (each run counts itself in the store, committed with it); a
 * retry of one that failed runs (the key also makes it safe for the recovery ladder to re-run a
 * crash; a request that crashes every time is quarantined, key or not, and none of its runs
 * commits anything); the same key for another request is refused (422), and while
 * the first runs (409); a streamed response is applied once but cannot be replayed (422);
 * records expire, and survive a restart (sqlite).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { assertCrashlessError, cleanup, send, sendJson, startApp, tempDir, type Answer } from './harness.js'

let server: CrashlessProcess
let dir: string

before(async () => {
  dir = tempDir()
  // One instance: /slow parks requests until /release, which must reach the same module.
  server = await startApp('idempotent.mjs', { instances: 1 }, dir)
})
after(cleanup)

const charge = (base: string, counter: string, key: string | null, init: { body?: string; headers?: Record<string, string>; path?: string; method?: string } = {}): Promise<Answer> =>
  send(`${base}${init.path ?? '/charge'}?counter=${counter}`, {
    method: init.method ?? 'POST',
    body: init.body,
    headers: { ...(key === null ? {} : { 'idempotency-key': key }), ...init.headers },
  })

const runs = async (base: string, counter: string): Promise<number> => (await sendJson<{ runs: number }>(`${base}/runs?counter=${counter}`)).runs

test('a retry of a committed request gets the recorded response; the app ran once', async () => {
  const first = await charge(server.url, 'once', 'key-once', { body: 'amount=10' })
  assert.equal(first.status, 201, first.body)
  assert.equal(first.headers['idempotent-replayed'], undefined)
  for (let i = 0; i < 3; i++) {
    const retry = await charge(server.url, 'once', 'key-once', { body: 'amount=10' })
    assert.equal(retry.status, 201)
    assert.equal(retry.body, first.body, 'the same body, random nonce included')
    assert.equal(retry.headers['x-charge'], '1')
    assert.equal(retry.headers['content-type'], 'application/json')
    assert.equal(retry.headers['idempotent-replayed'], 'true')
  }
  assert.equal(await runs(server.url, 'once'), 1)
  // The quoted form of the draft's syntax names the same key.
  assert.equal((await charge(server.url, 'once', '"key-once"', { body: 'amount=10' })).body, first.body)
  // Without a key, or with another one, it runs.
  assert.equal((await charge(server.url, 'once', null, { body: 'amount=10' })).status, 201)
  assert.equal((await charge(server.url, 'once', 'key-once-2', { body: 'amount=10' })).status, 201)
  assert.equal(await runs(server.url, 'once'), 3)
})

test('a response without a body is replayed too', async () => {
  const first = await charge(server.url, 'empty', 'key-empty', { path: '/empty' })
  assert.equal(first.status, 204)
  const retry = await charge(server.url, 'empty', 'key-empty', { path: '/empty' })
  assert.equal(retry.status, 204)
  assert.equal(retry.headers['x-empty'], 'yes')
  assert.equal(retry.headers['idempotent-replayed'], 'true')
  assert.equal(await runs(server.url, 'empty'), 1)
})

test('a keyed request that crashes every time: re-run by the recovery ladder, each run left nothing, POISON; its retry is refused unrun', async () => {
  const from = server.logs.length
  const crashed = await charge(server.url, 'crash-ladder', 'key-crash-ladder', { headers: { 'x-fail': 'crash' } })
  // The key makes the POST safe to re-run: the ladder tries it again on a fresh instance and alone.
  assertCrashlessError(crashed, 500, 'CRASHLESS_ERR_POISON')
  const { requestId, incidentId } = (JSON.parse(crashed.body) as { error: { requestId: string; incidentId: string } }).error
  const verdict = await server.waitForLog((l) => l.event === 'quarantined' && l.incidentId === incidentId, 5_000)
  assert.deepEqual(verdict.tried, ['fresh', 'exclusive'])
  assert.equal(verdict.instancesSpent, 3)
  await server.waitForLog(() => server.logs.slice(from).filter((l) => l.event === 'request-crashed').length >= 3, 5_000)
  const crashes = server.logs.slice(from).filter((l) => l.event === 'request-crashed')
  assert.deepEqual(crashes.map((l) => [l.requestId, l.role]), ['serving', 'sacrificial', 'sacrificial'].map((role) => [requestId, role]))
  // Three runs counted themselves; none of them committed.
  assert.equal(await runs(server.url, 'crash-ladder'), 0)

  // The same request again, key and all (the crash header is no part of its signature): refused
  // without running, quoting the incident; there is no recorded response to replay.
  const retry = await charge(server.url, 'crash-ladder', 'key-crash-ladder')
  assertCrashlessError(retry, 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal((JSON.parse(retry.body) as { error: { incidentId: string } }).error.incidentId, incidentId)
  assert.equal(retry.headers['idempotent-replayed'], undefined)
  assert.equal(await runs(server.url, 'crash-ladder'), 0)
  assert.equal(server.logs.slice(from).filter((l) => l.event === 'request-crashed').length, 3)
})

test('a retry of a request that failed (crash with the ladder off, 5xx) runs again; what failed left nothing', async () => {
  // Without the ladder, a crash answers 500 at once and the signature is only quarantined at
  // immunity.threshold (2) crashes, so the keyed retry can run.
  const off = await startApp('idempotent.mjs', { instances: 1, recovery: { ladder: [] } })
  const crashed = await charge(off.url, 'crash', 'key-crash', { headers: { 'x-fail': 'crash' } })
  assertCrashlessError(crashed, 500, 'CRASHLESS_ERR_HANDLER')
  const failed = await charge(off.url, 'crash', 'key-crash', { headers: { 'x-fail': '500' } })
  assert.equal(failed.status, 500, failed.body)
  assert.deepEqual(JSON.parse(failed.body), { failed: true }, 'the app\'s own 500, not a crashless error')
  assert.equal(await runs(off.url, 'crash'), 0)
  const retry = await charge(off.url, 'crash', 'key-crash')
  assert.equal(retry.status, 201, retry.body)
  assert.equal(retry.headers['idempotent-replayed'], undefined)
  assert.equal(JSON.parse(retry.body).run, 1)
  assert.equal((await charge(off.url, 'crash', 'key-crash')).headers['idempotent-replayed'], 'true')
  assert.equal(await runs(off.url, 'crash'), 1)
})

test('the key reused for another request (body, target or method differ): 422, nothing runs', async () => {
  assert.equal((await charge(server.url, 'mismatch', 'key-mismatch', { body: 'a' })).status, 201)
  const otherBody = await charge(server.url, 'mismatch', 'key-mismatch', { body: 'b' })
  assertCrashlessError(otherBody, 422, 'CRASHLESS_ERR_IDEMPOTENCY_MISMATCH')
  assert.match(JSON.parse(otherBody.body).error.message, /for another request/)
  assertCrashlessError(await charge(server.url, 'mismatch-2', 'key-mismatch', { body: 'a' }), 422, 'CRASHLESS_ERR_IDEMPOTENCY_MISMATCH')
  assertCrashlessError(await charge(server.url, 'mismatch', 'key-mismatch', { body: 'a', method: 'PUT' }), 422, 'CRASHLESS_ERR_IDEMPOTENCY_MISMATCH')
  assert.equal(await runs(server.url, 'mismatch'), 1)
  assert.equal(await runs(server.url, 'mismatch-2'), 0)
})

test('keys are scoped by the Authorization header: two clients with one key both run', async () => {
  const alice = await charge(server.url, 'scoped', 'shared-key', { headers: { authorization: 'Bearer alice' } })
  const bob = await charge(server.url, 'scoped', 'shared-key', { headers: { authorization: 'Bearer bob' } })
  assert.equal(alice.status, 201)
  assert.equal(bob.status, 201)
  assert.equal(bob.headers['idempotent-replayed'], undefined)
  assert.equal((await charge(server.url, 'scoped', 'shared-key', { headers: { authorization: 'Bearer alice' } })).body, alice.body)
  assert.equal(await runs(server.url, 'scoped'), 2)
})

test('safe methods are never deduplicated; an empty key is a bad request', async () => {
  await sendJson(`${server.url}/charge?counter=safe`, { headers: { 'idempotency-key': 'key-safe' } })
  await sendJson(`${server.url}/charge?counter=safe`, { headers: { 'idempotency-key': 'key-safe' } })
  assert.equal(await runs(server.url, 'safe'), 2)
  assertCrashlessError(await charge(server.url, 'bad', ''), 400, 'CRASHLESS_ERR_BAD_REQUEST')
  assertCrashlessError(await charge(server.url, 'bad', 'k'.repeat(513)), 400, 'CRASHLESS_ERR_BAD_REQUEST')
  assert.equal(await runs(server.url, 'bad'), 0)
})

test('the same key while the first request runs: 409 CRASHLESS_ERR_IN_PROGRESS, then the recorded response', async () => {
  const waiting = server.waitForLog((line) => line.event === 'fixture-waiting' && line.counter === 'busy')
  const first = charge(server.url, 'busy', 'key-busy', { path: '/slow' })
  await waiting
  const duplicate = await charge(server.url, 'busy', 'key-busy', { path: '/slow' })
  assertCrashlessError(duplicate, 409, 'CRASHLESS_ERR_IN_PROGRESS')
  assert.equal(duplicate.headers['retry-after'], '1')
  await sendJson(`${server.url}/release`, { method: 'POST' })
  const done = await first
  assert.equal(done.status, 201, done.body)
  const retry = await charge(server.url, 'busy', 'key-busy', { path: '/slow' })
  assert.equal(retry.body, done.body)
  assert.equal(await runs(server.url, 'busy'), 1)
})

test('a streamed or oversized response is applied once; its retry is told so (422), not run', async () => {
  for (const path of ['/stream', '/big']) {
    const counter = path.slice(1)
    const first = await charge(server.url, counter, `key${path}`, { path })
    assert.equal(first.status, 201)
    const retry = await charge(server.url, counter, `key${path}`, { path })
    assertCrashlessError(retry, 422, 'CRASHLESS_ERR_IDEMPOTENCY_UNRECORDED')
    assert.match(JSON.parse(retry.body).error.message, /status 201/)
    assert.equal(await runs(server.url, counter), 1, path)
  }
})

test('records expire after replay.idempotencyTtlMs; then the key runs again', async () => {
  const app = await startApp('idempotent.mjs', { replay: { idempotencyTtlMs: 1_500 }, state: { backend: 'memory' } })
  const first = await charge(app.url, 'ttl', 'key-ttl')
  const sentAt = performance.now()
  assert.equal((await charge(app.url, 'ttl', 'key-ttl')).headers['idempotent-replayed'], 'true')
  await new Promise((resolve) => setTimeout(resolve, 1_700 - (performance.now() - sentAt)))
  const after = await charge(app.url, 'ttl', 'key-ttl')
  assert.equal(after.status, 201)
  assert.equal(after.headers['idempotent-replayed'], undefined)
  assert.notEqual(after.body, first.body)
  assert.equal(await runs(app.url, 'ttl'), 2)
})

test('two runtimes on one Redis: both may run a duplicate, only one commits, both answer its response', async () => {
  const redis = await startRedisServer()
  try {
    const config = { instances: 1, state: { backend: 'redis' as const, redisUrl: redis.url } }
    const [a, b] = await Promise.all([startApp('idempotent.mjs', config), startApp('idempotent.mjs', config)])
    const parked = [a, b].map((p) => p.waitForLog((line) => line.event === 'fixture-waiting' && line.counter === 'cluster'))
    const fromA = charge(a.url, 'cluster', 'key-cluster', { path: '/slow' })
    const fromB = charge(b.url, 'cluster', 'key-cluster', { path: '/slow' })
    await Promise.all(parked)
    await sendJson(`${a.url}/release`, { method: 'POST' })
    const winner = await fromA
    assert.equal(winner.status, 201, winner.body)
    await sendJson(`${b.url}/release`, { method: 'POST' })
    const loser = await fromB
    assert.equal(loser.status, 201, loser.body)
    assert.equal(loser.body, winner.body)
    assert.equal(loser.headers['idempotent-replayed'], 'true')
    assert.equal(await runs(a.url, 'cluster'), 1)
    await b.waitForLog((line) => line.event === 'idempotency-duplicate')
    await Promise.all([a.stop(), b.stop()])
  } finally {
    await redis.stop()
  }
})

// Last: stops the shared server.
test('records survive a restart (sqlite)', async () => {
  const first = await charge(server.url, 'restart', 'key-restart', { body: 'x' })
  assert.equal(first.status, 201)
  assert.equal(await server.stop(), 0)
  const again = await startApp('idempotent.mjs', { instances: 1 }, dir)
  const retry = await charge(again.url, 'restart', 'key-restart', { body: 'x' })
  assert.equal(retry.body, first.body)
  assert.equal(retry.headers['idempotent-replayed'], 'true')
  assert.equal(await runs(again.url, 'restart'), 1)
})

/**
 * Optimistic concurrency and output commit, through real requests on 2 instances (sqlite):
 * concurrent read-modify-write increments of one key lose no update (conflicts re-run the
 * losers, which the log shows), and a client that got its response sees the write from any
 * instance at once.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { cleanup, getKey, send, sendJson, startApp } from './harness.js'

let server: CrashlessProcess
let express: CrashlessProcess

before(async () => {
  ;[server, express] = await Promise.all([startApp('store-fetch.mjs'), startApp('store-express.mjs')])
})
after(cleanup)

/** Fires `n` concurrent POST /incr?k=<key> and returns the counts they read (`from`). */
async function increments(base: string, key: string, n: number): Promise<{ from: number[]; failures: string[] }> {
  const answers = await Promise.all(Array.from({ length: n }, () => send(`${base}/incr?k=${key}`, { method: 'POST' })))
  const from: number[] = []
  const failures: string[] = []
  for (const answer of answers) {
    if (answer.status === 200) from.push((JSON.parse(answer.body) as { from: number }).from)
    else failures.push(`${answer.status} ${answer.body}`)
  }
  return { from, failures }
}

test('200 concurrent increments of one key across 2 instances: none lost, each saw a distinct count', async (t) => {
  const n = 200
  const logFrom = server.logs.length
  const { from, failures } = await increments(server.url, 'counter', n)
  assert.deepEqual(failures, [])
  assert.equal(await getKey(server.url, 'counter'), n)
  // Serializable: the n increments read 0, 1, ..., n-1, each exactly once.
  assert.deepEqual([...from].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i))
  // Log lines travel through a pipe and may trail the responses: wait for the first.
  await server.waitForLog((l) => l.event === 'commit-conflict' && l.url === '/incr?k=counter', 5_000)
  const conflicts = server.logs.slice(logFrom).filter((l) => l.event === 'commit-conflict')
  t.diagnostic(`${conflicts.length} conflicts re-run; at most ${Math.max(...conflicts.map((l) => l.conflicts as number))} for one request`)
  assert.ok(conflicts.every((l) => l.action === 're-run'), 'a request gave up')
  assert.deepEqual(conflicts[0]!.keys, ['s:counter'])
})

test('Express: 100 concurrent increments lose no update', async () => {
  const { from, failures } = await increments(express.url, 'ex:counter', 100)
  assert.deepEqual(failures, [])
  assert.equal(await getKey(express.url, 'ex:counter'), 100)
  assert.equal(new Set(from).size, 100)
})

test('output commit: once a client has its 200, a new request on any instance sees the write', async () => {
  // 20 clients each write then immediately read back their own key, 15 times, on fresh
  // requests that land on either instance.
  const clients = Array.from({ length: 20 }, async (_, c) => {
    const stale: string[] = []
    for (let i = 0; i < 15; i++) {
      await sendJson(`${server.url}/set?k=seq:${c}`, { method: 'POST', body: JSON.stringify(i), headers: { 'content-type': 'application/json' } })
      const seen = await getKey(server.url, `seq:${c}`)
      if (seen !== i) stale.push(`client ${c} wrote ${i}, read ${String(seen)}`)
    }
    return stale
  })
  assert.deepEqual((await Promise.all(clients)).flat(), [])
})

test('with maxCommitRetries 0, a conflicting request is answered 503 CRASHLESS_ERR_CONFLICT and applies nothing', async () => {
  const strict = await startApp('store-fetch.mjs', { instances: 2, state: { backend: 'memory', maxCommitRetries: 0 } })
  const { from, failures } = await increments(strict.url, 'strict', 50)
  assert.ok(failures.length > 0, 'no conflicts happened')
  for (const failure of failures) {
    assert.match(failure, /^503 /)
    assert.equal(JSON.parse(failure.slice(4)).error.code, 'CRASHLESS_ERR_CONFLICT')
  }
  // Exactly the acknowledged increments were applied.
  assert.equal(await getKey(strict.url, 'strict'), from.length)
  // Each refusal is logged (lines may trail the responses: wait for each one).
  for (const failure of failures) {
    const requestId = (JSON.parse(failure.slice(4)) as { error: { requestId: string } }).error.requestId
    const line = await strict.waitForLog((l) => l.event === 'commit-conflict' && l.requestId === requestId, 5_000)
    assert.equal(line.action, 'gave up: answered 503')
  }
})

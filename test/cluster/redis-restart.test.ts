/**
 * Issue 13.3: Redis killed (kill -9) under load and started again on its append-only file. Nodes
 * reconnect by themselves; nothing acknowledged before, during or after is lost or applied twice
 * (appendfsync always: a commit Redis acknowledged is on disk); and requests that needed the
 * store while it was gone got a clean 503 with Retry-After, not a 500, a hang or a reset.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { networkUnavailable, runScenario, startCluster, type Cluster } from './harness/index.js'
import { describeVerdict } from './report.js'

const skip = networkUnavailable()
let cluster: Cluster

before(async () => {
  if (!skip) cluster = await startCluster({ site: { readTimeoutS: 3 } })
})
after(async () => {
  await cluster?.stop()
})

test('Redis restarted: clean 503s with Retry-After while it is down, then nothing acknowledged lost or doubled', { skip: skip ?? false }, async (t) => {
  const seen = cluster.nodes.map((n) => n.logs.length)
  let reconnectedAt = Infinity
  const result = await runScenario(cluster, 'redis-restart', {
    tag: `redis${process.pid}`,
    faultMs: 700,
    afterRecovery: async (load) => {
      // Each node re-reads its immunity table once its connections to Redis are back.
      await Promise.all(cluster.nodes.map((n, i) => n.waitForLog((l) => l.event === 'immunity-resynced' && n.logs.indexOf(l) >= seen[i]!, 15_000)))
      reconnectedAt = performance.now()
      await load.untilOps(load.ops.length + 300)
    },
  })
  t.diagnostic(describeVerdict(result))
  const { verdict } = result
  assert.ok(verdict.clean503 > 0, 'some requests needed the store while it was down')
  assert.equal(verdict.otherFailedAttempts, 0, `every failed attempt was a 503 with Retry-After: ${JSON.stringify(verdict.failures)}`)
  const codes = new Set(result.ops.flatMap((op) => op.attempts.filter((a) => a.status === 503).map((a) => a.code)))
  assert.deepEqual([...codes], ['CRASHLESS_ERR_STATE'])
  assert.equal(verdict.lostWrites, 0, 'acknowledged writes lost')
  assert.equal(verdict.duplicatedEffects, 0, 'writes applied twice')
  assert.equal(verdict.tornCounts, 0, 'transactions applied in part')
  assert.equal(verdict.sessionsLost, 0, 'sessions that answered the wrong user')
  // Once Redis is back, the nodes serve from it again without being restarted.
  const late = result.ops.filter((op) => op.startedAt > reconnectedAt)
  assert.ok(late.length > 100 && late.every((op) => op.ok), `after the reconnection every operation succeeds (${late.filter((op) => op.ok).length}/${late.length})`)
})

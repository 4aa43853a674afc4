/**
 * Issue 13.3: a whole node lost under load. Three crashless nodes behind nginx on one Redis,
 * 40 users doing idempotent reads, keyed writes and session reads; one node is killed with
 * kill -9 of every process it has (keeper, runtimes), at once. The clients must not notice:
 * >= 99.9% of operations succeed (nginx re-sends reads; clients re-send keyed writes with their
 * key), sessions go on on the other nodes, and the store holds every acknowledged write exactly
 * once (the checker compares the store with what clients were told).
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

test('kill -9 of a whole node: nothing acknowledged is lost, nothing applied twice, >= 99.9% success', { skip: skip ?? false }, async (t) => {
  const victim = cluster.nodes[1]!
  const pids = victim.pids()
  assert.ok(pids.length >= 2, `the node runs a keeper and a runtime (pids ${pids.join(', ')})`)
  const result = await runScenario(cluster, 'node-kill', { tag: `kill${process.pid}`, victim: 1 })
  t.diagnostic(describeVerdict(result))
  assert.ok(pids.every((pid) => !victim.pids().includes(pid)), 'every process of the node is gone')
  const { verdict } = result
  assert.equal(verdict.lostWrites, 0, 'acknowledged writes lost')
  assert.equal(verdict.duplicatedEffects, 0, 'writes applied twice')
  assert.equal(verdict.tornCounts, 0, 'transactions applied in part')
  assert.equal(verdict.sessionsLost, 0, 'sessions that answered the wrong user')
  assert.ok(verdict.acknowledgedWrites > 100, `enough writes to mean something (${verdict.acknowledgedWrites})`)
  assert.ok(verdict.successRatio >= 0.999, `success ${(verdict.successRatio * 100).toFixed(3)}%: ${JSON.stringify(verdict.failures)}`)
  // Operations started once the node was dead (an answer it sent just before dying may still
  // arrive after: those are not counted).
  const served = result.ops.filter((op) => op.startedAt - result.startedAt > result.recoveredAt).flatMap((op) => op.attempts.map((a) => a.node))
  assert.ok(!served.includes(victim.name), 'nothing started after its death is answered by the dead node')
  assert.ok(served.includes('n1') && served.includes('n3'), 'the other two nodes serve')
})

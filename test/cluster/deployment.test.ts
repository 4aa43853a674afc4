/**
 * Issue 13.1 and 13.2 on the tested deployment: three crashless nodes, each in its own network
 * namespace with its own address, behind a real nginx configured as docs/deployment.md says, on
 * one real Redis. Without faults every node serves and sessions work whichever node answers; a
 * poison judged on one node is refused unrun by the others, and by a node that joins later.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { NODE_PORT, networkUnavailable, nsRequest, runScenario, startCluster, type Cluster } from './harness/index.js'
import { quarantineEverywhere } from './poison.js'
import { describeVerdict } from './report.js'

const skip = networkUnavailable()
let cluster: Cluster

before(async () => {
  if (!skip) cluster = await startCluster({ site: { readTimeoutS: 3 } })
})
after(async () => {
  await cluster?.stop()
})

test('without faults: every node serves, every operation succeeds, sessions hold across nodes', { skip: skip ?? false }, async (t) => {
  assert.deepEqual(cluster.nodes.map((n) => n.address), ['10.77.0.11', '10.77.0.12', '10.77.0.13'], 'each node has an address of its own')
  assert.match(cluster.nginx.config, /proxy_next_upstream error timeout;/)
  assert.doesNotMatch(cluster.nginx.config, /non_idempotent/, 'nginx never sends a POST that reached a node to another')
  const result = await runScenario(cluster, 'none', { tag: `none${process.pid}`, before: 100, after: 300 })
  t.diagnostic(describeVerdict(result))
  const { verdict } = result
  assert.equal(verdict.successRatio, 1, JSON.stringify(verdict.failures))
  assert.equal(verdict.lostWrites + verdict.duplicatedEffects + verdict.tornCounts + verdict.sessionsLost, 0)
  assert.deepEqual(Object.keys(verdict.byNode).sort(), ['n1', 'n2', 'n3'])
  // A user's session, made on one node, answered by the others.
  const nodesPerSession = new Map<number, Set<string>>()
  for (const op of result.ops.filter((o) => o.kind === 'me' && o.ok)) nodesPerSession.set(op.user, (nodesPerSession.get(op.user) ?? new Set()).add(op.attempts[0]!.node!))
  assert.ok([...nodesPerSession.values()].some((nodes) => nodes.size >= 2), 'some session was read on two nodes or more')
})

test('a poison judged on one node is refused unrun on every other node, and on a node that joins later', { skip: skip ?? false }, async (t) => {
  const signature = 'GET /boom?cluster=1 #-'
  const { judge, propagationMs } = await quarantineEverywhere(cluster, '/boom?cluster=1', signature)
  t.diagnostic(`judged on ${judge}; applied on the others ${propagationMs.join(' / ')} ms after the verdict (issue goal: 100 ms)`)
  for (const node of cluster.nodes.filter((n) => n.name !== judge)) {
    const crashedBefore = node.logs.filter((l) => l.event === 'request-crashed').length
    const answer = await nsRequest(node.ns, `http://127.0.0.1:${NODE_PORT}/boom?cluster=1`, 'GET', 5)
    assert.equal(answer.status, 500)
    assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'CRASHLESS_ERR_QUARANTINED')
    await node.waitForLog((l) => l.event === 'quarantine-hit' && l.signature === signature)
    assert.equal(node.logs.filter((l) => l.event === 'request-crashed').length, crashedBefore, `${node.name} ran none of the copies`)
    t.diagnostic(`${node.name} refused the copies in ${answer.ms.map((ms) => ms.toFixed(2)).join(' / ')} ms (round trips from its own namespace; the first connects)`)
  }
  // A node that starts after the verdict (here: n3 lost and started again) loads it.
  const late = cluster.nodes[2]!
  await late.kill()
  const from = late.logs.length
  await late.start()
  const loaded = late.logs.slice(from).find((l) => l.event === 'immunity-loaded')
  assert.ok(loaded && Number(loaded.quarantined) >= 1, `the new node loaded the quarantine: ${JSON.stringify(loaded)}`)
  const answer = await nsRequest(late.ns, `http://127.0.0.1:${NODE_PORT}/boom?cluster=1`)
  assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'CRASHLESS_ERR_QUARANTINED')
})


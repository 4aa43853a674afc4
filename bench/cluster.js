// Several nodes behind nginx on one Redis (issue 13, point 5): the tested deployment of
// test/cluster (three nodes, each in its own network namespace, a real nginx configured as
// docs/deployment.md says, a real Redis with appendonly/appendfsync always), run with crashless on
// each node and with PM2 cluster mode on each node (the same app logic on ioredis directly, see
// test/fixtures/cluster-plain-app.mjs), under the same load and the same faults:
//   none           no fault
//   node-kill      kill -9 of every process of one node (crashless: keeper and runtimes; PM2:
//                  daemon and workers), which stays dead
//   partition      one node's link set down at the bridge for --fault-ms (1500), then back up
//   redis-restart  kill -9 of Redis, started again on its AOF after --redis-ms (700)
// The load: --users (40) closed-loop users, each logged in (a session), then idempotent reads,
// session reads and keyed writes (Idempotency-Key; a write that failed transiently is sent again
// with its key, as the docs ask of clients), --before (300) operations before the fault and
// --after (600) after the recovery. Then a Jepsen-style checker compares the store with what the
// clients were told: lost acknowledged writes, writes applied twice. For crashless, a poison
// request is judged on one node before the load, and the delay until the other nodes applied the
// verdict (their `immunity-verdict` log lines) is reported, and how long each of them then took to
// refuse the next copy (their `quarantine-hit` lines' ms) and a burst of 200 more (their
// crashless_quarantine_refusal_seconds histograms).
//
// nginx's read timeout is 3 s here (the docs recommend 35 s, above crashless's request deadline):
// it is how long requests sent to a node that was cut off wait before going elsewhere.
//
// Writes bench/results/cluster.json: { runs: [{ peer, scenario, successRatio, lostWrites,
// duplicatedEffects, longestOutageMs, immunityPropagationMs, immunityRefusalFirstMs, immunityRefusedWithin1ms }] } (the shape), and the
// details of each run (attempt-level success, failures by kind, sessions lost) to
// bench/results/scratch/cluster-details.json. Needs root (network namespaces), nginx, redis-server.
//
//   node bench/cluster.js [--peers crashless,pm2] [--scenarios none,node-kill,partition,redis-restart]
//                         [--users 40] [--instances 1] [--before 300] [--after 600]
//                         [--fault-ms 1500] [--redis-ms 700] [--quick]
import { parseArgs, checkList } from './lib/args.js'
import { onCleanup, runGuarded } from './lib/cleanup.js'
import { machineInfo } from './lib/machine.js'
import { writeResults } from './lib/results.js'
import { ADMIN_PORT, NODE_PORT, networkUnavailable, nsRequest, runScenario, startCluster } from '../dist/test/cluster/harness/index.js'

const PEERS = ['crashless', 'pm2']
const SCENARIOS = ['none', 'node-kill', 'partition', 'redis-restart']

const opts = parseArgs(process.argv.slice(2), {
  peers: { type: 'list', default: PEERS },
  scenarios: { type: 'list', default: SCENARIOS },
  users: { type: 'number', default: 40 },
  instances: { type: 'number', default: 1 },
  before: { type: 'number', default: 300 },
  after: { type: 'number', default: 600 },
  'fault-ms': { type: 'number', default: 1500 },
  'redis-ms': { type: 'number', default: 700 },
  quick: { type: 'boolean', default: false },
})
checkList('peers', opts.peers, PEERS)
checkList('scenarios', opts.scenarios, SCENARIOS)
if (opts.quick) Object.assign(opts, { before: 100, after: 200 })

const round = (n, digits = 1) => (n === null || n === undefined ? null : Math.round(n * 10 ** digits) / 10 ** digits)

/** Copies of the poison each other node is sent once it knows the verdict. */
const REFUSAL_BURST = 200

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]

/** From a node's /metrics text: how many refusals it timed, and the share within 0.1 ms and 1 ms. */
function refusalShares(text) {
  const bucket = (le) => Number(new RegExp(`^crashless_quarantine_refusal_seconds_bucket\\{le="${le}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN)
  const count = Number(/^crashless_quarantine_refusal_seconds_count (\d+)/m.exec(text)?.[1] ?? NaN)
  return { refused: count, within100us: round(bucket('0.0001') / count, 4), within1ms: round(bucket('0.001') / count, 4) }
}

/** Sends a poison through nginx and waits for the other nodes to apply the verdict: the largest delay. */
async function immunityPropagation(cluster, tag) {
  const { default: http } = await import('node:http')
  const path = `/boom?bench=${tag}`
  const status = await new Promise((resolve, reject) => {
    const req = http.request({ socketPath: cluster.nginx.socket, path, agent: false, headers: { host: 'cluster' }, timeout: 30_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    })
    req.on('error', reject)
    req.end()
  })
  const signature = `GET ${path} #-`
  const judge = await Promise.any(cluster.nodes.map((n) => n.waitForLog((l) => l.event === 'quarantined' && l.signature === signature, 30_000).then(() => n)))
  const others = cluster.nodes.filter((n) => n !== judge)
  const lines = await Promise.all(others.map((n) => n.waitForLog((l) => l.event === 'immunity-verdict' && l.signature === signature, 10_000)))
  // The next copy on each other node: how long its dispatcher took to refuse it (the
  // `quarantine-hit` line's ms; the round trip from the node's own namespace is beside it).
  // Then a burst of copies on one keep-alive connection, read from the node's refusal histogram.
  const refusals = []
  for (const node of others) {
    const answer = await nsRequest(node.ns, `http://127.0.0.1:${NODE_PORT}${path}`, 'GET', REFUSAL_BURST)
    const hit = await node.waitForLog((l) => l.event === 'quarantine-hit' && l.signature === signature, 10_000)
    const metrics = await nsRequest(node.ns, `http://127.0.0.1:${ADMIN_PORT}/metrics`)
    refusals.push({ node: node.name, status: answer.status, ms: Number(hit.ms), ...refusalShares(metrics.body), roundTripP50Ms: round(median(answer.ms), 3) })
  }
  return { status, judge: judge.name, delays: lines.map((l) => Number(l.delayMs)), refusals }
}

async function main() {
  const why = networkUnavailable()
  if (why) throw new Error(`bench:cluster cannot run here: ${why}`)
  const runs = []
  const details = []
  for (const peer of opts.peers) {
    for (const scenario of opts.scenarios) {
      const tag = `${peer}-${scenario}-${process.pid}`
      console.log(`\n== ${peer}, ${scenario}`)
      const cluster = await startCluster({ peer, instances: opts.instances, site: { readTimeoutS: 3 } })
      const unregister = onCleanup(() => cluster.stop())
      try {
        let propagation = null
        if (peer === 'crashless') {
          propagation = await immunityPropagation(cluster, tag)
          console.log(`   poison judged on ${propagation.judge}; verdict applied on the others after ${propagation.delays.join(' / ')} ms`)
          for (const r of propagation.refusals) console.log(`   ${r.node}: first copy refused in ${r.ms} ms; of ${r.refused} refusals ${(r.within100us * 100).toFixed(1)}% within 0.1 ms, ${(r.within1ms * 100).toFixed(1)}% within 1 ms; round trip p50 ${r.roundTripP50Ms} ms`)
        }
        const result = await runScenario(cluster, scenario, {
          tag,
          users: opts.users,
          before: opts.before,
          after: opts.after,
          faultMs: scenario === 'redis-restart' ? opts['redis-ms'] : opts['fault-ms'],
          maxMs: 120_000,
        })
        const v = result.verdict
        runs.push({
          peer,
          scenario,
          successRatio: round(v.successRatio, 5),
          lostWrites: v.lostWrites,
          duplicatedEffects: v.duplicatedEffects,
          longestOutageMs: v.longestOutageMs,
          immunityPropagationMs: propagation ? Math.max(...propagation.delays) : null,
          immunityRefusalFirstMs: propagation ? Math.max(...propagation.refusals.map((r) => r.ms)) : null,
          immunityRefusedWithin1ms: propagation ? Math.min(...propagation.refusals.map((r) => r.within1ms)) : null,
        })
        details.push({ peer, scenario, ...v, faultAtMs: Math.round(result.faultAt), recoveredAtMs: Math.round(result.recoveredAt), afterRecovery: result.afterRecovery, immunity: propagation })
        console.log(`   ${v.ops} operations, success ${(v.successRatio * 100).toFixed(3)}% (attempts ${(v.attemptSuccessRatio * 100).toFixed(3)}%), acknowledged writes ${v.acknowledgedWrites}, lost ${v.lostWrites}, applied twice ${v.duplicatedEffects}, torn ${v.tornCounts}, sessions lost ${v.sessionsLost}, longest outage ${v.longestOutageMs} ms`)
        console.log(`   failed operations: ${JSON.stringify(v.failures)}; by node ${JSON.stringify(v.byNode)}`)
      } finally {
        unregister()
        await cluster.stop()
      }
    }
  }
  const scratch = opts.quick || opts.peers.length < PEERS.length || opts.scenarios.length < SCENARIOS.length
  const file = writeResults('cluster', { machine: machineInfo(), runs }, { scratch })
  writeResults('cluster-details', { machine: machineInfo(), options: opts, runs: details }, { scratch: true })
  console.log(`\nwrote ${file}`)
  console.table(runs)
}

await runGuarded(main, { budgetMs: 20 * 60_000 })

// Fault-free overhead: req/s and latency of the same unmodified app under plain node (1 process),
// PM2 cluster mode (-i max) and crashless (--instances = cores), in one run on the same machine.
// Budget (DESIGN.md "Budgets"): crashless req/s >= PM2's, crashless p99 <= PM2 p99 + 1 ms.
//
//   node bench/overhead.js [--rounds 3] [--duration 10] [--warmup 2] [--connections 50]
//                          [--routes trivial,json] [--peers node,pm2,crashless] [--quick] [--strict]
//
// --peers ...,crashless-2rt adds crashless with --runtimes 2 (cores/2 instances each, the same
// instance threads in all): the scaling of runtimes on this machine (README, "Sizing").
//
// Peers run one at a time (never concurrently); the peer order rotates every round so slow drift of
// the machine does not always hit the same peer. Medians over rounds are reported.
import path from 'node:path'
import { parseArgs, checkList } from './lib/args.js'
import { runGuarded } from './lib/cleanup.js'
import { runLoad } from './lib/load.js'
import { machineInfo } from './lib/machine.js'
import { APPS_DIR } from './lib/paths.js'
import { preparePeers } from './lib/prepare-peers.js'
import { CRASHLESS_RUNTIMES_PEER, PEER_KINDS, startPeer } from './lib/peers/index.js'
import { writeResults } from './lib/results.js'
import { median, round } from './lib/stats.js'
import { formatTable } from './lib/table.js'
import { startCpuCount, startCpuCountAll } from './lib/thread-cpu.js'

const ROUTES = ['trivial', 'json']
const APP = path.join(APPS_DIR, 'overhead-app.js')

const opts = parseArgs(process.argv.slice(2), {
  rounds: { type: 'number', default: 3 },
  duration: { type: 'number', default: 10 },
  warmup: { type: 'number', default: 2 },
  connections: { type: 'number', default: 50 },
  routes: { type: 'list', default: ROUTES },
  peers: { type: 'list', default: PEER_KINDS },
  snapshot: { type: 'boolean', default: true },
  quick: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
})
if (opts.quick) Object.assign(opts, { rounds: 1, duration: 3, warmup: 1 })
checkList('routes', opts.routes, ROUTES)
checkList('peers', opts.peers, [...PEER_KINDS, CRASHLESS_RUNTIMES_PEER])

const log = (msg) => console.log(`[overhead ${new Date().toISOString().slice(11, 19)}] ${msg}`)

async function main() {
  const { peers, skipped, pm2, crashlessRoot } = await preparePeers(opts.peers, { snapshot: opts.snapshot, log })
  const samples = Object.fromEntries(opts.routes.map((r) => [r, Object.fromEntries(peers.map((p) => [p, []]))]))
  const starts = Object.fromEntries(peers.map((p) => [p, []]))

  for (let r = 1; r <= opts.rounds; r++) {
    const order = peers.map((_, i) => peers[(i + r - 1) % peers.length])
    for (const kind of order) {
      if (skipped[kind]) continue
      let peer
      try {
        peer = await startPeer(kind, { app: APP, readyPath: '/trivial', tag: `overhead-r${r}`, pm2, crashlessRoot })
      } catch (err) {
        skipped[kind] = err.message
        log(`skipping ${kind} from now on: ${err.message}`)
        continue
      }
      starts[kind].push(peer.startMs)
      try {
        for (const route of opts.routes) {
          const res = await runLoad({
            url: `${peer.origin}/${route}`,
            connections: opts.connections,
            durationSec: opts.duration,
            warmupSec: opts.warmup,
            countCpu: cpuCounter(peer),
          })
          res.cpuPerReq = cpuPerRequest(res)
          samples[route][kind].push(res)
          const shares = res.cpu?.mains ? ` (dispatchers' shares ${res.cpu.mains.map((m) => `${Math.round((100 * m) / res.cpu.main)}%`).join('/')})` : ''
          const cpu = res.cpuPerReq ? `  cpu/req main ${res.cpuPerReq.main.toFixed(1)} µs, others ${res.cpuPerReq.others.toFixed(1)} µs${shares}` : ''
          log(`round ${r}/${opts.rounds} ${kind.padEnd(9)} /${route.padEnd(7)} ${fmtRps(res.reqPerSec)} req/s  p50 ${fmtMs(res.p50)}  p99 ${fmtMs(res.p99)}  errors ${res.errors + res.timeouts}  non2xx ${res.non2xx}  client stall ${res.clientStallMs.toFixed(0)} ms${cpu}`)
        }
      } finally {
        await peer.stop()
      }
    }
  }

  const summary = {}
  for (const route of opts.routes) {
    summary[route] = {}
    for (const kind of peers) {
      const xs = samples[route][kind]
      if (xs.length === 0) continue
      summary[route][kind] = {
        reqPerSec: round(median(xs.map((x) => x.reqPerSec)), 0),
        p50: round(median(xs.map((x) => x.p50)), 2),
        p99: round(median(xs.map((x) => x.p99)), 2),
        max: round(Math.max(...xs.map((x) => x.max)), 2),
        errors: xs.reduce((n, x) => n + x.errors + x.timeouts, 0),
        non2xx: xs.reduce((n, x) => n + x.non2xx, 0),
        rounds: xs.map((x) => round(x.reqPerSec, 0)),
        spread: round(spread(xs.map((x) => x.reqPerSec)), 3),
        clientStallMs: round(Math.max(...xs.map((x) => x.clientStallMs)), 1),
        ...cpuSummary(xs, kind === CRASHLESS_RUNTIMES_PEER ? 2 : 1),
      }
    }
  }
  const goals = checkGoals(summary)
  printReport(summary, goals, peers)
  for (const [kind, why] of Object.entries(skipped)) console.log(`NOTE: ${kind} not measured: ${why.split('\n')[0]}`)

  // A run with runtimes 2 keeps its own file: it answers another question than overhead.json's.
  const file = writeResults(opts.peers.includes(CRASHLESS_RUNTIMES_PEER) ? 'overhead-runtimes' : 'overhead', {
    bench: 'overhead',
    machine: machineInfo(),
    config: { rounds: opts.rounds, durationSec: opts.duration, warmupSec: opts.warmup, connections: opts.connections, routes: opts.routes, peers: opts.peers },
    skipped,
    startMs: Object.fromEntries(Object.entries(starts).map(([k, v]) => [k, v.map((x) => round(x, 0))])),
    summary,
    goals,
    samples,
  }, { scratch: opts.quick })
  log(`wrote ${path.relative(process.cwd(), file)}`)
  if (opts.strict && goals.some((g) => g.pass !== true)) process.exitCode = 1
}

/** Throughput goals against PM2 per route (issue 14): trivial >= 0.8x, the JSON route >= 1.0x. */
const PM2_RATIO_GOAL = { trivial: 0.8, json: 1.0 }

function checkGoals(summary) {
  const goals = []
  for (const [route, byPeer] of Object.entries(summary)) {
    const c = byPeer.crashless
    const p = byPeer.pm2
    if (c && route === 'trivial' && c.cpuMainUsPerReq !== undefined) {
      goals.push({ route, goal: 'dispatcher CPU <= 15 µs per trivial request', pass: c.cpuMainUsPerReq <= 15, detail: `${c.cpuMainUsPerReq} µs` })
      goals.push({ route, goal: 'runtime ceiling >= 60k trivial req/s', pass: c.ceilingReqPerSec >= 60_000, detail: `${fmtRps(c.ceilingReqPerSec)} req/s (1 s / dispatcher CPU per request)` })
    }
    if (c && byPeer.node) goals.push({ route, goal: 'crashless vs plain node (information)', pass: null, detail: ratio(c.reqPerSec, byPeer.node.reqPerSec) })
    const two = byPeer[CRASHLESS_RUNTIMES_PEER]
    if (c && two) goals.push({ route, goal: 'runtimes 2 vs 1 (information: scaling on this machine)', pass: null, detail: `${fmtRps(two.reqPerSec)} vs ${fmtRps(c.reqPerSec)} req/s (${ratio(two.reqPerSec, c.reqPerSec)}); p99 ${fmtMs(two.p99)} vs ${fmtMs(c.p99)}` })
    if (!c || !p) {
      goals.push({ route, goal: 'crashless vs PM2', pass: null, detail: 'not measured (need both crashless and pm2)' })
      continue
    }
    const want = PM2_RATIO_GOAL[route] ?? 1
    goals.push({
      route,
      goal: `crashless req/s >= ${want.toFixed(1)}x PM2 req/s`,
      pass: c.reqPerSec >= want * p.reqPerSec,
      detail: `${fmtRps(c.reqPerSec)} vs ${fmtRps(p.reqPerSec)} req/s (${ratio(c.reqPerSec, p.reqPerSec)})`,
    })
    goals.push({
      route,
      goal: 'crashless p99 <= PM2 p99 + 1 ms',
      pass: c.p99 <= p.p99 + 1,
      detail: `${fmtMs(c.p99)} vs ${fmtMs(p.p99)} + 1 ms`,
    })
    goals.push({
      route,
      goal: 'crashless: no errors, all 2xx',
      pass: c.errors === 0 && c.non2xx === 0,
      detail: `${c.errors} errors, ${c.non2xx} non-2xx`,
    })
  }
  return goals
}

function printReport(summary, goals, peers) {
  const rows = []
  for (const [route, byPeer] of Object.entries(summary)) {
    for (const kind of peers) {
      const s = byPeer[kind]
      if (!s) continue
      rows.push([
        '/' + route,
        kind,
        s.reqPerSec,
        s.p50.toFixed(2),
        s.p99.toFixed(2),
        s.errors,
        s.non2xx,
        byPeer.pm2 ? ratio(s.reqPerSec, byPeer.pm2.reqPerSec) : '-',
        byPeer.node ? ratio(s.reqPerSec, byPeer.node.reqPerSec) : '-',
        s.rounds.length > 1 ? `${Math.round(s.spread * 100)}%` : '-',
        s.clientStallMs.toFixed(0),
        s.cpuMainUsPerReq ?? '-',
        s.cpuOthersUsPerReq ?? '-',
        s.rounds.join(' '),
      ])
    }
  }
  console.log(`\nmedians over ${opts.rounds} round(s), ${opts.duration} s each, ${opts.connections} connections, after ${opts.warmup} s warm-up\n`)
  console.log(formatTable(['route', 'peer', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non2xx', 'vs pm2', 'vs node', 'spread', 'stall ms', 'main µs/req', 'others µs/req', 'req/s per round'], rows))
  console.log('\nmain µs/req: CPU per request of crashless\'s dispatcher thread (plain node: its whole process\'s main thread); others: instances and V8 helper threads (plain node: V8 helpers). From /proc, over the measured run.')
  for (const [route, byPeer] of Object.entries(summary)) {
    for (const kind of ['crashless', CRASHLESS_RUNTIMES_PEER]) {
      const s = byPeer[kind]
      if (s?.cpuMainUsPerReq === undefined) continue
      console.log(`${kind} /${route}: dispatcher ${s.cpuMainUsPerReq} µs/req -> ceiling ${fmtRps(s.ceilingReqPerSec)} req/s per runtime (${fmtRps(s.ceilingAllReqPerSec)} for ${s.runtimes}); a runtime keeps ${s.coresPerRuntime} cores busy per saturated dispatcher`)
    }
  }
  const noisy = rows.filter((r) => parseInt(r[9]) > 15)
  if (noisy.length) console.log(`\nWARNING: req/s varied by more than 15% between rounds for ${noisy.map((r) => `${r[1]} ${r[0]}`).join(', ')}: is something else using the CPU? Re-run, or use more --rounds.`)
  console.log('\ngoals')
  for (const g of goals) console.log(`  ${g.pass === true ? 'PASS' : g.pass === false ? 'FAIL' : 'N/A '}  /${g.route}  ${g.goal}: ${g.detail}`)
}

/**
 * What counts CPU for a peer during the measured run (see lib/thread-cpu.js): crashless's runtime
 * process (main thread = the dispatcher; others = instances and V8's helper threads) and plain
 * node's process (main = the whole request; others = V8's helpers). PM2's workers are separate
 * processes behind a daemon: not counted.
 */
function cpuCounter(peer) {
  if (peer.kind === 'crashless') return () => startCpuCount(peer.runtimePid())
  if (peer.kind === CRASHLESS_RUNTIMES_PEER) return () => startCpuCountAll(peer.runtimePids())
  if (peer.kind === 'node') return () => startCpuCount(peer.pids()[0])
  return undefined
}

/** CPU µs per answered request, { main, others }, or null when not counted. */
function cpuPerRequest(res) {
  if (!res.cpu || res.total === 0) return null
  return { main: res.cpu.main / res.total, others: res.cpu.others / res.total }
}

/**
 * Median CPU per request over rounds, and for crashless the runtime's ceiling: the req/s at which
 * its dispatcher thread would be busy all the time (1 s / its CPU per request). With several
 * runtimes `main` is their dispatchers' CPU summed per request (each request crosses one), so
 * the ceiling is per runtime and `runtimes` times that for all of them, had they the cores.
 * `coresPerRuntime`: the CPU a runtime keeps busy per dispatcher core, (main + others) / main.
 */
function cpuSummary(xs, runtimes) {
  const per = xs.map((x) => x.cpuPerReq).filter((c) => c)
  if (per.length === 0) return {}
  const main = median(per.map((c) => c.main))
  const others = median(per.map((c) => c.others))
  const ceiling = 1e6 / main
  return { cpuMainUsPerReq: round(main, 1), cpuOthersUsPerReq: round(others, 1), ceilingReqPerSec: round(ceiling, 0), runtimes, ceilingAllReqPerSec: round(runtimes * ceiling, 0), coresPerRuntime: round((main + others) / main, 2) }
}

/** (max - min) / median of a list of numbers. */
const spread = (xs) => (Math.max(...xs) - Math.min(...xs)) / median(xs)
const fmtRps = (x) => Math.round(x).toString()
const fmtMs = (x) => `${x.toFixed(2)} ms`
const ratio = (a, b) => `${(a / b).toFixed(2)}x`

const budgetMs = (opts.rounds * opts.peers.length * (opts.routes.length * (opts.warmup + opts.duration + 2) + 30) + 120) * 1000
await runGuarded(main, { budgetMs })

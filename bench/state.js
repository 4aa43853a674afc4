// Store cost: req/s and latency of the same node:http app doing the same store operations per
// request (OPS reads, or read-increment-writes, of random keys) under crashless with each state
// backend (memory, sqlite, redis), and as a plain node process doing them directly (a Map,
// better-sqlite3 with WAL + synchronous=NORMAL, ioredis), in one run on the same machine.
//
//   node bench/state.js [--rounds 3] [--duration 4] [--warmup 1] [--connections 50] [--ops 3]
//                       [--peers node-memory,node-sqlite,...] [--quick] [--snapshot=false]
//
// Peers run one at a time; the order rotates every round; medians over rounds are reported. The
// redis peers share one private redis-server (no persistence) started for the run.
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs, checkList } from './lib/args.js'
import { spawnLogged, stopChild, tailFile } from './lib/child.js'
import { onCleanup, runGuarded } from './lib/cleanup.js'
import { cores } from './lib/cores.js'
import { snapshotCrashless } from './lib/crashless-snapshot.js'
import { freePort } from './lib/free-port.js'
import { runLoad } from './lib/load.js'
import { machineInfo } from './lib/machine.js'
import { APPS_DIR, SCRATCH_DIR, scratchFile } from './lib/paths.js'
import { crashlessUnavailable, startCrashlessPeer } from './lib/peers/crashless.js'
import { startRedisServer } from './lib/redis-server.js'
import { writeResults } from './lib/results.js'
import { median, round } from './lib/stats.js'
import { formatTable } from './lib/table.js'
import { sleep, waitReady } from './lib/wait-ready.js'

const BACKENDS = ['memory', 'sqlite', 'redis']
const PEERS = [...BACKENDS.map((b) => `node-${b}`), ...BACKENDS.map((b) => `crashless-${b}`)]
const APP = path.join(APPS_DIR, 'state-app.js')

const opts = parseArgs(process.argv.slice(2), {
  rounds: { type: 'number', default: 3 },
  duration: { type: 'number', default: 4 },
  warmup: { type: 'number', default: 1 },
  connections: { type: 'number', default: 50 },
  ops: { type: 'number', default: 3 },
  peers: { type: 'list', default: PEERS },
  snapshot: { type: 'boolean', default: true },
  quick: { type: 'boolean', default: false },
})
if (opts.quick) Object.assign(opts, { rounds: 1, duration: 2, warmup: 1 })
checkList('peers', opts.peers, PEERS)

const log = (msg) => console.log(`[state ${new Date().toISOString().slice(11, 19)}] ${msg}`)
const backendOf = (peer) => peer.slice(peer.indexOf('-') + 1)
const runtimeOf = (peer) => peer.slice(0, peer.indexOf('-'))
/** /none is the same for every backend of a runtime: measured once, on its memory peer. */
const routesOf = (peer) => (backendOf(peer) === 'memory' ? ['none', 'read', 'rw'] : ['read', 'rw'])

// Both runtimes read OPS from the environment; crashless peers must not see a STATE_MODE.
process.env.OPS = String(opts.ops)
delete process.env.STATE_MODE

async function main() {
  let peers = opts.peers
  const skipped = {}
  const why = crashlessUnavailable()
  if (why && peers.some((p) => p.startsWith('crashless-'))) {
    for (const p of peers.filter((p) => p.startsWith('crashless-'))) skipped[p] = why
    peers = peers.filter((p) => !p.startsWith('crashless-'))
    log(`skipping crashless: ${why}`)
  }
  const crashlessRoot = opts.snapshot && peers.some((p) => p.startsWith('crashless-')) ? await snapshotCrashless() : undefined
  if (crashlessRoot) log(`crashless build snapshot: ${crashlessRoot}`)
  const redis = peers.some((p) => p.endsWith('-redis')) ? await startRedisServer() : null
  if (redis) log(`redis-server ${redis.url} (pid ${redis.pid})`)

  const samples = {}
  for (const peer of peers) for (const route of routesOf(peer)) (samples[route] ??= {})[peer] = []
  for (let r = 1; r <= opts.rounds; r++) {
    const order = peers.map((_, i) => peers[(i + r - 1) % peers.length])
    for (const kind of order) {
      let peer
      try {
        peer = await startStatePeer(kind, { tag: `state-r${r}-${kind}`, redisUrl: redis?.url, crashlessRoot })
      } catch (err) {
        skipped[kind] = err.message
        log(`skipping ${kind} from now on: ${err.message.split('\n')[0]}`)
        peers = peers.filter((p) => p !== kind)
        continue
      }
      try {
        for (const route of routesOf(kind)) {
          const res = await runLoad({ url: `${peer.origin}/${route}`, connections: opts.connections, durationSec: opts.duration, warmupSec: opts.warmup })
          samples[route][kind].push(res)
          log(`round ${r}/${opts.rounds} ${kind.padEnd(16)} /${route.padEnd(4)} ${Math.round(res.reqPerSec)} req/s  p50 ${res.p50.toFixed(2)} ms  p99 ${res.p99.toFixed(2)} ms  errors ${res.errors + res.timeouts}  non2xx ${res.non2xx}`)
        }
      } finally {
        await peer.stop()
      }
    }
  }

  const summary = summarize(samples)
  const ratios = computeRatios(summary)
  printReport(summary, ratios)
  for (const [kind, reason] of Object.entries(skipped)) console.log(`NOTE: ${kind} not measured: ${reason.split('\n')[0]}`)
  const file = writeResults('state', {
    bench: 'state',
    machine: machineInfo(),
    config: { rounds: opts.rounds, durationSec: opts.duration, warmupSec: opts.warmup, connections: opts.connections, opsPerRequest: opts.ops, keys: 10_000, peers: opts.peers, crashlessInstances: cores() },
    skipped,
    summary,
    ratios,
    samples,
  }, { scratch: opts.quick })
  log(`wrote ${path.relative(process.cwd(), file)}`)
}

/** Starts one peer serving bench/apps/state-app.js on a free port; resolves once /none answers. */
async function startStatePeer(kind, { tag, redisUrl, crashlessRoot }) {
  const port = await freePort()
  const backend = backendOf(kind)
  let peer
  if (runtimeOf(kind) === 'crashless') {
    const state = backend === 'redis' ? { backend, redisUrl, redisPrefix: `${tag}:` } : { backend }
    peer = await startCrashlessPeer({ app: APP, port, readyPath: '/none', tag, instances: cores(), crashlessRoot, crashlessConfig: { state, admin: { enabled: false } } })
  } else {
    peer = await startNodeStatePeer({ port, tag, backend, redisUrl })
  }
  await sleep(300)
  return { ...peer, origin: `http://127.0.0.1:${port}` }
}

/** The plain node peer: one process, STATE_MODE picks the direct store; its sqlite file in a temp dir. */
async function startNodeStatePeer({ port, tag, backend, redisUrl }) {
  const logFile = scratchFile(`${tag}.log`)
  fs.mkdirSync(SCRATCH_DIR, { recursive: true })
  const cwd = fs.mkdtempSync(path.join(SCRATCH_DIR, `${tag}-`))
  const env = { ...process.env, PORT: String(port), STATE_MODE: backend, SQLITE_PATH: path.join(cwd, 'state.db'), ...(redisUrl ? { REDIS_URL: redisUrl } : {}) }
  const handle = spawnLogged(process.execPath, [APP], { cwd, env, logFile })
  const stop = async () => {
    unregister()
    await stopChild(handle, { graceMs: 5000 })
    fs.rmSync(cwd, { recursive: true, force: true })
  }
  const unregister = onCleanup(stop)
  try {
    await waitReady(`http://127.0.0.1:${port}/none`, { alive: () => !handle.state.exited })
  } catch (err) {
    await stop()
    throw new Error(`node peer did not start: ${err.message}\n${tailFile(logFile)}`)
  }
  return { kind: 'node', port, stop }
}

function summarize(samples) {
  const summary = {}
  for (const [route, byPeer] of Object.entries(samples)) {
    for (const [peer, xs] of Object.entries(byPeer)) {
      if (xs.length === 0) continue
      const rps = xs.map((x) => x.reqPerSec)
      ;(summary[route] ??= {})[peer] = {
        reqPerSec: round(median(rps), 0),
        p50: round(median(xs.map((x) => x.p50)), 2),
        p99: round(median(xs.map((x) => x.p99)), 2),
        errors: xs.reduce((n, x) => n + x.errors + x.timeouts, 0),
        non2xx: xs.reduce((n, x) => n + x.non2xx, 0),
        rounds: rps.map((x) => round(x, 0)),
        spread: round((Math.max(...rps) - Math.min(...rps)) / median(rps), 3),
        clientStallMs: round(Math.max(...xs.map((x) => x.clientStallMs)), 1),
      }
    }
  }
  return summary
}

/**
 * For each crashless backend and route: req/s and p99 against the plain node peer doing the same
 * operations directly (ratio, difference), and each peer's req/s against its runtime's /none.
 */
function computeRatios(summary) {
  const out = []
  for (const route of ['read', 'rw']) {
    for (const backend of BACKENDS) {
      const c = summary[route]?.[`crashless-${backend}`]
      const n = summary[route]?.[`node-${backend}`]
      const cBase = summary.none?.['crashless-memory']
      const nBase = summary.none?.['node-memory']
      out.push({
        route,
        backend,
        crashlessReqPerSec: c?.reqPerSec ?? null,
        directReqPerSec: n?.reqPerSec ?? null,
        reqPerSecRatio: c && n ? round(c.reqPerSec / n.reqPerSec, 2) : null,
        p99DiffMs: c && n ? round(c.p99 - n.p99, 2) : null,
        crashlessVsOwnNone: c && cBase ? round(c.reqPerSec / cBase.reqPerSec, 2) : null,
        directVsOwnNone: n && nBase ? round(n.reqPerSec / nBase.reqPerSec, 2) : null,
        // Throughput cost of the store operations: the extra time per request at saturation.
        crashlessCostUs: c && cBase ? round(1e6 / c.reqPerSec - 1e6 / cBase.reqPerSec, 1) : null,
        directCostUs: n && nBase ? round(1e6 / n.reqPerSec - 1e6 / nBase.reqPerSec, 1) : null,
      })
    }
  }
  return out
}

function printReport(summary, ratios) {
  const rows = []
  for (const [route, byPeer] of Object.entries(summary)) {
    for (const peer of PEERS) {
      const s = byPeer[peer]
      if (!s) continue
      rows.push([`/${route}`, peer, s.reqPerSec, s.p50.toFixed(2), s.p99.toFixed(2), s.errors, s.non2xx, s.rounds.length > 1 ? `${Math.round(s.spread * 100)}%` : '-', s.rounds.join(' ')])
    }
  }
  console.log(`\nmedians over ${opts.rounds} round(s), ${opts.duration} s each after ${opts.warmup} s warm-up, ${opts.connections} connections, ${opts.ops} operations per request; crashless with ${cores()} instances, node one process\n`)
  console.log(formatTable(['route', 'peer', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non2xx', 'spread', 'req/s per round'], rows))
  const fmt = (x, unit = '') => (x === null ? '-' : `${x}${unit}`)
  console.log('\ncrashless vs the same operations done directly in a plain node process')
  console.log(
    formatTable(
      ['route', 'backend', 'crashless req/s', 'direct req/s', 'ratio', 'p99 diff', 'crashless vs own /none', 'direct vs own /none', 'crashless cost', 'direct cost'],
      ratios.map((r) => [`/${r.route}`, r.backend, fmt(r.crashlessReqPerSec), fmt(r.directReqPerSec), fmt(r.reqPerSecRatio, 'x'), fmt(r.p99DiffMs, ' ms'), fmt(r.crashlessVsOwnNone, 'x'), fmt(r.directVsOwnNone, 'x'), fmt(r.crashlessCostUs, ' us'), fmt(r.directCostUs, ' us')]),
    ),
  )
  console.log('\n(cost: 1e6/req/s minus the same for the runtime\'s /none: the extra time per request the store operations take at saturation)')
  const noisy = rows.filter((r) => parseInt(r[7]) > 15)
  if (noisy.length) console.log(`\nWARNING: req/s varied by more than 15% between rounds for ${noisy.map((r) => `${r[1]} ${r[0]}`).join(', ')}: is something else using the CPU?`)
}

const runs = opts.peers.reduce((n, p) => n + routesOf(p).length, 0)
const budgetMs = (opts.rounds * (runs * (opts.warmup + opts.duration + 2) + opts.peers.length * 15) + 120) * 1000
await runGuarded(main, { budgetMs })

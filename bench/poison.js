// Poison campaign: benign traffic keeps flowing while poison requests arrive, under crashless and
// PM2 cluster mode in the same run (each peer started fresh per run; crashless in a fresh cwd, so
// no immunity learned in one run carries over to the next).
//
// A, repeated poison (per fault kind): 20 closed loops of GET /ok over keep-alive for 6 s, plus
//    the SAME poison request (same signature) every 200 ms on a fresh connection.
// B, distinct-poison flood (throw, exit, loop): the same benign loops, but every 10th request the
//    client sends is a poison with a new `?v=` (a new signature every time), fire-and-forget.
//
// Goals (issue 3, point 6): one poison signature crashes at most 3 instances over its life, serving
// and sacrificial ones (the recovery ladder's re-runs) together; benign success >= 99.9% under A
// and >= 99% under the flood. Time to verdict (crashless): first poison sent -> its `quarantined`
// log line. In the flood, when the route's bulkhead closed and where poison failed after it.
// PM2 rows show what the same app gets without crashless.
// Every run also reports the share of 100 ms windows served (at least one benign request completed
// successfully in the window; issue 9, point 2) and threads and RSS of the peer's processes (idle
// before the load, peak, end). A fixed-rate flood of distinct crashing requests is bench/flood.js.
//
//   node bench/poison.js [--kinds none,throw,...] [--flood-kinds throw,exit,loop] [--peers crashless,pm2]
//                        [--duration 6] [--warmup 1] [--interval 200] [--concurrency 20]
//                        [--flood-every 10] [--heap-mb 128] [--budget 450] [--quick] [--strict]
import path from 'node:path'
import { parseArgs, checkList } from './lib/args.js'
import { runGuarded } from './lib/cleanup.js'
import { watchClientStalls, longestStall } from './lib/client-stalls.js'
import { floodLoop } from './lib/flood-loop.js'
import { loadWithShooter } from './lib/load-with-shooter.js'
import { machineInfo } from './lib/machine.js'
import { APPS_DIR } from './lib/paths.js'
import { preparePeers } from './lib/prepare-peers.js'
import { PEER_KINDS, startPeer } from './lib/peers/index.js'
import { poisonShooter } from './lib/poison-shooter.js'
import { resourceCell, sampleResources } from './lib/resources.js'
import { benignStats, crashStats, poisonStats } from './lib/poison-summary.js'
import { printReport } from './lib/poison-report.js'
import { writeResults } from './lib/results.js'
import { round } from './lib/stats.js'

const KINDS = ['none', 'throw', 'async-throw', 'reject', 'exit', 'loop', 'oom', 'stack']
const APP = path.join(APPS_DIR, 'poison-app.js')
const MAX_CRASHES_PER_SIGNATURE = 3

const opts = parseArgs(process.argv.slice(2), {
  kinds: { type: 'list', default: KINDS },
  'flood-kinds': { type: 'list', default: ['throw', 'exit', 'loop'] },
  peers: { type: 'list', default: ['crashless', 'pm2'] },
  duration: { type: 'number', default: 6 },
  warmup: { type: 'number', default: 1 },
  interval: { type: 'number', default: 200 },
  concurrency: { type: 'number', default: 20 },
  'flood-every': { type: 'number', default: 10 },
  'flood-max-inflight': { type: 'number', default: 200 },
  'benign-timeout': { type: 'number', default: 5000 },
  'poison-timeout': { type: 'number', default: 2000 },
  'heap-mb': { type: 'number', default: 128 },
  budget: { type: 'number', default: 450 },
  snapshot: { type: 'boolean', default: true },
  quick: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
})
if (opts.quick) Object.assign(opts, { duration: 2, warmup: 0.5, budget: Math.min(opts.budget, 150) })
checkList('kinds', opts.kinds, KINDS)
checkList('flood-kinds', opts['flood-kinds'], KINDS.filter((k) => k !== 'none'))
checkList('peers', opts.peers, PEER_KINDS.filter((p) => p !== 'node'))
if (opts['flood-every'] < 2) throw new Error('--flood-every must be >= 2')

const log = (msg) => console.log(`[poison ${new Date().toISOString().slice(11, 19)}] ${msg}`)

// The instance heap is small so `oom` poison reaches the cap quickly (V8's last-ditch GCs near the
// cap can still stall the instance for most of a lease); PM2 gets the same cap. The
// admin endpoint is off: it would bind 9300, which other crashless processes on the machine use.
const CRASHLESS_CONFIG = { limits: { heapMb: opts['heap-mb'] }, admin: { enabled: false }, ...(process.env.BENCH_LOG_DEBUG ? { log: { level: 'debug' } } : {}) }

async function withPeer(kind, tag, env, fn) {
  const peer = await startPeer(kind, { app: APP, readyPath: '/ok', tag, heapMb: opts['heap-mb'], crashlessConfig: CRASHLESS_CONFIG, ...env })
  // Threads and RSS of the peer's processes: idle now (before the warm-up), then every 250 ms to
  // the end of the load (poison still in flight included).
  const sampler = sampleResources(() => peer.pids())
  let measured
  let info
  let resources
  try {
    measured = await fn(peer)
    resources = sampler.stop()
    info = await peer.info().catch((err) => ({ error: err.message }))
  } finally {
    sampler.stop()
    await peer.stop()
  }
  // Read after the stop: a poison still in flight at the end of the window is judged by then.
  return { measured, info, resources, logFile: peer.logFile, startMs: peer.startMs }
}

/** Scenario A: benign load plus the same poison every `interval` ms. */
async function runRepeated(kind, fault, env) {
  const poisonPath = fault === 'none' ? undefined : `/poison/${fault}?v=1`
  const durationMs = opts.duration * 1000
  const { measured, info, resources, logFile, startMs } = await withPeer(kind, `poison-${fault}`, env, async (peer) => {
    const shooter = poisonShooter({ origin: peer.origin, pathFor: () => poisonPath, intervalMs: opts.interval, durationMs: poisonPath ? durationMs : 0, timeoutMs: opts['poison-timeout'] })
    return loadWithShooter({
      shooter,
      origin: peer.origin,
      concurrency: opts.concurrency,
      durationMs,
      warmupMs: opts.warmup * 1000,
      timeoutMs: opts['benign-timeout'],
    })
  })
  const benign = benignStats(measured.samples, durationMs)
  const crashes = crashStats(kind, { logFile, info, shots: measured.shots, poisonPath })
  // crashless: instances charged to the signature, serving and sacrificial (benign requests never
  // crash this app, so unattributed losses count too). PM2: every restart.
  const perSig = crashes.signature?.instances ?? crashes.instances
  const pass = benign.successRatio >= 0.999 && (perSig ?? 0) <= MAX_CRASHES_PER_SIGNATURE
  return {
    scenario: 'repeated',
    peer: kind,
    fault,
    poisonPath,
    benign,
    poison: poisonStats(measured.shots),
    crashes,
    // Each shot: sent at (ms into the window), how it ended, after how long, crashless's request id.
    shots: measured.shots.map((s) => ({ at: round(s.at, 1), outcome: s.outcome, ms: round(s.ms, 1), requestId: s.requestId })),
    client: { longestStallMs: round(longestStall(measured.stalls), 1) },
    // Threads and RSS (MB) summed over the peer's processes: idle (before the load), peak, end.
    resources,
    peerInfo: info,
    startMs: round(startMs, 0),
    goal: { successRatio: 0.999, maxCrashesPerSignature: MAX_CRASHES_PER_SIGNATURE, pass },
  }
}

/** Scenario B: benign load where every `flood-every`-th request is a distinct poison. */
async function runFlood(kind, fault, env) {
  const durationMs = opts.duration * 1000
  // Epoch ms of the measured period's start, to line unserved windows up with the peer's log.
  let startedAt = 0
  const { measured, info, resources, logFile, startMs } = await withPeer(kind, `poison-flood-${fault}`, env, async (peer) => {
    const watcher = watchClientStalls()
    const out = await floodLoop({
      origin: peer.origin,
      benignPath: '/ok',
      poisonPathFor: (n) => `/poison/${fault}?v=${n}`,
      every: opts['flood-every'],
      concurrency: opts.concurrency,
      durationMs,
      warmupMs: opts.warmup * 1000,
      timeoutMs: opts['benign-timeout'],
      poisonTimeoutMs: opts['poison-timeout'],
      maxPoisonInFlight: opts['flood-max-inflight'],
      onStart: (t0) => {
        startedAt = Date.now()
        watcher.reset(t0)
      },
    })
    return { ...out, stalls: watcher.stop() }
  })
  const benign = benignStats(measured.samples, durationMs)
  const crashes = crashStats(kind, { logFile, info, shots: measured.shots })
  // PM2 can't say which request killed a worker; a distinct poison is sent once, so at most one each.
  const worst = kind === 'crashless' ? crashes.worstPerSignature : Math.min(1, crashes.instances ?? 0)
  const pass = benign.successRatio >= 0.99 && worst <= MAX_CRASHES_PER_SIGNATURE
  return {
    scenario: 'flood',
    peer: kind,
    fault,
    startedAt,
    poisonShare: round(measured.shots.length / Math.max(1, measured.shots.length + measured.samples.size), 4),
    benign,
    poison: { ...poisonStats(measured.shots), capDeferred: measured.capDeferred, capDropped: measured.capDropped },
    crashes,
    client: { longestStallMs: round(longestStall(measured.stalls), 1) },
    // Threads and RSS (MB) summed over the peer's processes: idle (before the load), peak, end.
    resources,
    peerInfo: info,
    startMs: round(startMs, 0),
    goal: { successRatio: 0.99, maxCrashesPerSignature: MAX_CRASHES_PER_SIGNATURE, pass },
  }
}

async function main() {
  const began = Date.now()
  const { peers, skipped, pm2, crashlessRoot } = await preparePeers(opts.peers, { snapshot: opts.snapshot, log })
  const plan = [...opts.kinds.map((f) => ['repeated', f]), ...opts['flood-kinds'].map((f) => ['flood', f])]
  const results = []
  const notRun = []
  const perRunMs = (opts.warmup + opts.duration + 8) * 1000
  for (const [scenario, fault] of plan) {
    for (const kind of peers) {
      if (Date.now() - began + perRunMs > opts.budget * 1000) {
        notRun.push(`${scenario}/${fault}/${kind}`)
        continue
      }
      try {
        const r = scenario === 'flood' ? await runFlood(kind, fault, { pm2, crashlessRoot }) : await runRepeated(kind, fault, { pm2, crashlessRoot })
        results.push(r)
        log(`${scenario.padEnd(8)} ${fault.padEnd(11)} ${kind.padEnd(9)} benign ${(r.benign.successRatio * 100).toFixed(2)}% ok, windows served ${(r.benign.windowsServed.ratio * 100).toFixed(1)}%, threads ${resourceCell(r.resources, 'threads')}, RSS MB ${resourceCell(r.resources, 'rssMb')}, instances lost ${r.crashes.instances ?? '-'}, worst sig ${r.crashes.worstPerSignature ?? '-'}, poison ${r.poison.sent}`)
      } catch (err) {
        log(`${scenario} ${fault} ${kind}: run failed: ${err.message}`)
        results.push({ scenario, peer: kind, fault, error: err.message, goal: { pass: false } })
      }
    }
  }
  printReport(results, opts)
  if (notRun.length) console.log(`\nNOTE: time budget of ${opts.budget} s reached; not run: ${notRun.join(', ')}`)
  for (const [kind, why] of Object.entries(skipped)) console.log(`NOTE: ${kind} not measured: ${why.split('\n')[0]}`)
  const file = writeResults(
    'poison',
    {
      bench: 'poison',
      machine: machineInfo(),
      config: {
        kinds: opts.kinds,
        floodKinds: opts['flood-kinds'],
        peers: opts.peers,
        durationSec: opts.duration,
        warmupSec: opts.warmup,
        poisonIntervalMs: opts.interval,
        floodEvery: opts['flood-every'],
        floodMaxInFlight: opts['flood-max-inflight'],
        benignConcurrency: opts.concurrency,
        benignTimeoutMs: opts['benign-timeout'],
        poisonTimeoutMs: opts['poison-timeout'],
        heapMb: opts['heap-mb'],
        crashlessConfig: CRASHLESS_CONFIG,
        maxCrashesPerSignature: MAX_CRASHES_PER_SIGNATURE,
        windowMs: 100,
        resourceSampleMs: 250,
      },
      skipped,
      notRun,
      elapsedSec: round((Date.now() - began) / 1000, 0),
      results,
    },
    { scratch: opts.quick },
  )
  log(`wrote ${path.relative(process.cwd(), file)} after ${Math.round((Date.now() - began) / 1000)} s`)
  if (opts.strict && results.some((r) => r.peer === 'crashless' && !r.goal.pass)) process.exitCode = 1
}

// The soft budget stops starting runs (one run's usual length before it ends); 30 s after it, the
// watchdog stops everything, so a default run never exceeds 8 minutes even when a peer hangs.
const budgetMs = (opts.budget + 30) * 1000
await runGuarded(main, { budgetMs })

// Evaluation campaign on the eBid auction service (bench/ebid/, contract in bench/ebid/API.md):
// the same app, load and faults under plain node, node:cluster with respawn, PM2 cluster mode and
// crashless, one run at a time on this machine. For every fault (none, each kind of API.md, and the
// attacker) and every peer: a fresh peer and store, the client emulator for a fixed time, the fault
// armed in one component at fixed times. Measures user-action success, outage, recovery,
// throughput and latency (definitions in lib/campaign/metrics.js and bench/README.md).
//
// Goals (reported, never tuned): crashless action success >= 99.9% under every fault kind, and
// at least PM2's; crashless fault-free throughput >= PM2's. crashless runs eBid's components each in
// a pool of their own (lib/campaign/run-one.js); `crashless-app` is crashless with the whole app as
// one component, to compare what a reboot of one component loses against one of the whole app.
//
//   node bench/campaign.js [--faults none,exit,...] [--peers node,cluster,pm2,crashless,crashless-app]
//                          [--duration 10] [--fault-at 3,6] [--component bids] [--users 40]
//                          [--heap-mb 256] [--attack-rate 60] [--budget 720] [--quick] [--strict]
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import fs from 'node:fs'
import { parseArgs, checkList } from './lib/args.js'
import { runGuarded } from './lib/cleanup.js'
import { runMetrics } from './lib/campaign/metrics.js'
import { checkGoals } from './lib/campaign/goals.js'
import { printConsoleReport, writeMarkdownReport } from './lib/campaign/report.js'
import { runOne } from './lib/campaign/run-one.js'
import { levelsActed, lostWork } from './lib/campaign/levels.js'
import { machineInfo } from './lib/machine.js'
import { BENCH_DIR, RESULTS_DIR, SCRATCH_DIR } from './lib/paths.js'
import { preparePeers } from './lib/prepare-peers.js'
import { ALL_PEER_KINDS } from './lib/peers/index.js'
import { writeResults } from './lib/results.js'
import { round } from './lib/stats.js'

const KINDS = ['null-deref', 'invalid-value', 'corruption', 'async-throw', 'rejection', 'loop', 'deadlock', 'leak', 'stack', 'exit', 'race']
const FAULTS = ['none', ...KINDS, 'attacker']
const QUICK_FAULTS = ['none', 'exit', 'loop']

const opts = parseArgs(process.argv.slice(2), {
  faults: { type: 'list', default: FAULTS },
  peers: { type: 'list', default: ALL_PEER_KINDS },
  duration: { type: 'number', default: 10 },
  'fault-at': { type: 'list', default: ['3', '6'] },
  component: { type: 'string', default: 'bids' },
  users: { type: 'number', default: 40 },
  'think-ms': { type: 'number', default: 100 },
  'request-timeout': { type: 'number', default: 2000 },
  'heap-mb': { type: 'number', default: 256 },
  'attack-rate': { type: 'number', default: 60 },
  seed: { type: 'number', default: 7 },
  'attack-seed': { type: 'number', default: 11 },
  'ebid-seed': { type: 'number', default: 42 },
  budget: { type: 'number', default: 840 },
  app: { type: 'string', default: path.join(BENCH_DIR, 'ebid', 'server.js') },
  client: { type: 'string', default: path.join(BENCH_DIR, 'ebid', 'client', 'index.js') },
  snapshot: { type: 'boolean', default: true },
  quick: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
})
// --quick: a smoke run (~2 min). It changes only the options left at their defaults, so e.g.
// `--quick --duration 10 --fault-at 3,6` times full-length runs without writing the real results.
const QUICK = { faults: QUICK_FAULTS, duration: 6, 'fault-at': ['2', '4'], budget: 150 }
if (opts.quick) {
  for (const [name, value] of Object.entries(QUICK)) if (!process.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))) opts[name] = value
}
checkList('faults', opts.faults, FAULTS)
checkList('peers', opts.peers, ALL_PEER_KINDS)
checkList('component', [opts.component], ['users', 'items', 'bids'])
const faultAtMs = opts['fault-at'].map((s) => Number(s) * 1000)
if (faultAtMs.some((t) => !(t > 0 && t < opts.duration * 1000))) throw new Error('--fault-at: times must lie inside the run (0 < t < --duration)')

const log = (msg) => console.log(`[campaign ${new Date().toISOString().slice(11, 19)}] ${msg}`)

const config = {
  faults: opts.faults,
  peers: opts.peers,
  component: opts.component,
  durationSec: opts.duration,
  faultAtSec: faultAtMs.map((t) => t / 1000),
  users: opts.users,
  thinkMeanMs: opts['think-ms'],
  requestTimeoutMs: opts['request-timeout'],
  heapMb: opts['heap-mb'],
  attackRate: opts['attack-rate'],
  seed: opts.seed,
  attackSeed: opts['attack-seed'],
  ebidSeed: opts['ebid-seed'],
  app: path.relative(process.cwd(), opts.app),
}

async function main() {
  const began = Date.now()
  for (const f of [opts.app, opts.client]) if (!fs.existsSync(f)) throw new Error(`${f} does not exist (the eBid app and client: bench/ebid/)`)
  const client = await import(pathToFileURL(opts.client).href)
  const { peers, skipped, pm2, crashlessRoot } = await preparePeers(opts.peers, { snapshot: opts.snapshot, log })
  // Start/stop of a peer plus the emulator's last request timeouts: a run's usual length.
  const perRunMs = opts.duration * 1000 + opts['request-timeout'] + 5000
  const runs = []
  const notRun = []
  opts.faults.forEach((fault, i) => {
    // Rotating the peer order spreads slow moments of the machine over the peers.
    const order = peers.map((_, j) => peers[(i + j) % peers.length])
    for (const peer of order) runs.push({ fault, peer })
  })
  const results = []
  for (const { fault, peer } of runs) {
    if (Date.now() - began + perRunMs > opts.budget * 1000) {
      notRun.push(`${fault}/${peer}`)
      continue
    }
    results.push(await measure(peer, fault, { client, pm2, crashlessRoot }))
  }
  const ordered = opts.faults.flatMap((f) => opts.peers.map((p) => results.find((r) => r.fault === f && r.peer === p)).filter(Boolean))
  printConsoleReport(ordered, opts.faults, config)
  if (notRun.length) console.log(`\nNOTE: time budget of ${opts.budget} s reached; not run: ${notRun.join(', ')}`)
  for (const [kind, why] of Object.entries(skipped)) console.log(`NOTE: ${kind} not measured: ${why.split('\n')[0]}`)
  const machine = machineInfo()
  const elapsedSec = round((Date.now() - began) / 1000, 0)
  const file = writeResults('campaign', { bench: 'campaign', machine, config, skipped, notRun, elapsedSec, goals: checkGoals(ordered, opts.faults), runs: ordered }, { scratch: opts.quick })
  const md = writeMarkdownReport(opts.quick ? SCRATCH_DIR : RESULTS_DIR, { runs: ordered, faults: opts.faults, peers: opts.peers, config, machine, skipped, notRun })
  log(`wrote ${path.relative(process.cwd(), file)} and ${path.relative(process.cwd(), md)} after ${elapsedSec} s`)
  if (opts.strict && checkGoals(ordered, opts.faults).some((g) => g.pass === false)) process.exitCode = 1
}

async function measure(peer, fault, env) {
  const plan = {
    peer,
    fault,
    component: opts.component,
    durationMs: opts.duration * 1000,
    faultAtMs,
    users: opts.users,
    thinkMeanMs: opts['think-ms'],
    requestTimeoutMs: opts['request-timeout'],
    seed: opts.seed,
    attackRate: opts['attack-rate'],
    attackSeed: opts['attack-seed'],
    heapMb: opts['heap-mb'],
    ebidSeed: opts['ebid-seed'],
  }
  try {
    const raw = await runOne(plan, { app: opts.app, ...env })
    // Metrics on the emulator's clock; the nominal times stand in for `none` (no shot armed).
    const at = raw.faultAtActual.length ? raw.faultAtActual : faultAtMs
    const m = runMetrics({ actions: raw.result.actions, requests: raw.result.requests, durationMs: plan.durationMs, faultAtMs: fault === 'attacker' ? at.slice(0, 1) : at })
    const r = {
      peer,
      fault,
      component: fault === 'none' || fault === 'attacker' ? null : opts.component,
      ...m,
      cutActions: raw.result.cut,
      faultAtMs: at,
      shots: raw.shots,
      attacker: raw.attacker && { ...raw.attacker, share: attackShare(raw, at[0]) },
      peerInfo: raw.peerInfo,
      // crashless only: the levels of its recovery that acted, and what its instance swaps cost.
      ...(peer.startsWith('crashless') ? { levels: levelsActed(raw.peerInfo?.events), lostWork: lostWork(raw.logFile) } : {}),
      // Actions failing later than the last shot plus a client timeout and a second (by then every
      // request the shot hit has ended): the fault was not cured.
      failedLate: fault === 'none' ? 0 : raw.result.actions.filter((a) => !a.ok && a.t > at[at.length - 1] + opts['request-timeout'] + 1_000).length,
      clientStalls: raw.clientStalls,
      startMs: raw.startMs,
      stopMs: raw.stopMs,
      durationMs: plan.durationMs,
    }
    log(`${fault.padEnd(13)} ${peer.padEnd(9)} ${(r.actionSuccessRatio * 100).toFixed(2)}% of ${r.actions} actions ok, outage ${r.longestOutageMs} ms, recovery ${r.recoveryMs} ms, ${r.actionsPerSec} actions/s (start ${r.startMs} ms, stop ${r.stopMs} ms)`)
    return r
  } catch (err) {
    log(`${fault} ${peer}: run failed: ${err.message}`)
    return { peer, fault, error: err.message }
  }
}

/** Poison requests / all requests (poison + the users') from the attack's start on. */
function attackShare(raw, fromMs) {
  const poison = raw.attacker?.requestsCount ?? 0
  const users = raw.result.requests.filter((r) => r.t >= fromMs).length
  return poison + users ? round(poison / (poison + users), 3) : 0
}

// Time plan (2 cores): 13 faults x 5 peers = 65 runs of 10 s, each ~11.5-13 s with start, stop and
// the emulator's last timeouts: ~13.5 min. The soft budget (14 min) stops starting runs; 60 s after
// it the watchdog stops everything, so `npm run bench:campaign` stays within about 15 min.
await runGuarded(main, { budgetMs: (opts.budget + 60) * 1000 })

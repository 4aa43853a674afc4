// Fault campaign: benign traffic keeps flowing while one faulty request arrives every 200 ms.
// For each fault kind, crashless and PM2 cluster mode are run side by side (each on a fresh start):
// a closed-loop benign client (20 loops of GET /ok over keep-alive, 5 s timeout) plus one
// GET /fault/<kind> every 200 ms on a fresh connection (2 s timeout).
// Budgets (DESIGN.md "Budgets"): benign success >= 99.9% and no window without a successful benign
// response longer than 50 ms for crash-type faults and for hangs; an infinite loop may cost at most
// one lease (1 s) of silence. Fault kind `none` is the baseline (benign traffic only).
// The bench process watches its own event loop: a silence that is mostly client stall is marked `*`.
//
//   node bench/faults.js [--faults throw,exit,...] [--peers crashless,pm2] [--duration 6]
//                        [--warmup 1] [--interval 200] [--concurrency 20] [--heap-mb 512] [--quick] [--strict]
import path from 'node:path'
import { parseArgs, checkList } from './lib/args.js'
import { runGuarded } from './lib/cleanup.js'
import { stallOverlap, longestStall } from './lib/client-stalls.js'
import { faultShooter } from './lib/fault-shooter.js'
import { longestSilence, countOutcomes } from './lib/gaps.js'
import { loadWithShooter } from './lib/load-with-shooter.js'
import { machineInfo } from './lib/machine.js'
import { APPS_DIR } from './lib/paths.js'
import { preparePeers } from './lib/prepare-peers.js'
import { PEER_KINDS, startPeer } from './lib/peers/index.js'
import { writeResults } from './lib/results.js'
import { percentileSorted, round } from './lib/stats.js'
import { formatTable } from './lib/table.js'

const FAULTS = ['none', 'throw', 'async-throw', 'reject', 'exit', 'loop', 'oom', 'stack', 'hang']
const CRASH_FAULTS = ['throw', 'async-throw', 'reject', 'exit', 'oom', 'stack']
const LEASE_MS = 1000
const APP = path.join(APPS_DIR, 'faults-app.js')

const opts = parseArgs(process.argv.slice(2), {
  faults: { type: 'list', default: FAULTS },
  peers: { type: 'list', default: ['crashless', 'pm2'] },
  duration: { type: 'number', default: 6 },
  warmup: { type: 'number', default: 1 },
  interval: { type: 'number', default: 200 },
  concurrency: { type: 'number', default: 20 },
  'benign-timeout': { type: 'number', default: 5000 },
  'fault-timeout': { type: 'number', default: 2000 },
  'heap-mb': { type: 'number', default: 512 },
  snapshot: { type: 'boolean', default: true },
  quick: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
})
if (opts.quick) Object.assign(opts, { duration: 2, warmup: 0.5 })
checkList('faults', opts.faults, FAULTS)
checkList('peers', opts.peers, PEER_KINDS)

const log = (msg) => console.log(`[faults ${new Date().toISOString().slice(11, 19)}] ${msg}`)

/** Longest tolerated window without a successful benign response, per fault kind. */
function silenceBudgetMs(fault) {
  return fault === 'loop' ? LEASE_MS : 50
}

async function runOne(kind, fault, env) {
  const peer = await startPeer(kind, { app: APP, readyPath: '/ok', tag: `faults-${fault}`, heapMb: opts['heap-mb'], ...env })
  try {
    const durationMs = opts.duration * 1000
    const faultPath = fault === 'none' ? undefined : `/fault/${fault}`
    const shooter = faultShooter({ origin: peer.origin, path: faultPath, intervalMs: opts.interval, durationMs, timeoutMs: opts['fault-timeout'] })
    const { samples, shots, stalls } = await loadWithShooter({
      shooter,
      origin: peer.origin,
      concurrency: opts.concurrency,
      durationMs,
      warmupMs: opts.warmup * 1000,
      timeoutMs: opts['benign-timeout'],
    })
    const info = await peer.info().catch((err) => ({ error: err.message }))
    return summarize(kind, fault, samples, shots, stalls, durationMs, info, peer.startMs)
  } finally {
    await peer.stop()
  }
}

function summarize(peer, fault, samples, shots, stalls, durationMs, info, startMs) {
  const lat = samples.okLatenciesSorted()
  const silence = longestSilence(samples.okEndsSorted(), durationMs)
  const successRatio = samples.size ? samples.okCount / samples.size : 0
  const budget = silenceBudgetMs(fault)
  const pass = successRatio >= 0.999 && silence.ms <= budget
  return {
    peer,
    fault,
    benign: {
      total: samples.size,
      ok: samples.okCount,
      successRatio,
      failures: countOutcomes(samples.failures),
      p50: round(percentileSorted(lat, 50), 2),
      p99: round(percentileSorted(lat, 99), 2),
      max: round(lat.length ? lat[lat.length - 1] : NaN, 2),
    },
    longestSilence: { ms: round(silence.ms, 1), fromMs: round(silence.from, 1), toMs: round(silence.to, 1), clientStalledMs: round(stallOverlap(stalls, silence.from, silence.to), 1) },
    client: { longestStallMs: round(longestStall(stalls), 1), stalls: stalls.length },
    faulty: { count: shots.length, outcomes: countOutcomes(shots.map((s) => s.outcome)) },
    peerInfo: info,
    startMs: round(startMs, 0),
    goal: { successRatio: 0.999, maxSilenceMs: budget, pass },
  }
}

async function main() {
  const { peers, skipped, pm2, crashlessRoot } = await preparePeers(opts.peers, { snapshot: opts.snapshot, log })
  const results = []
  for (const fault of opts.faults) {
    for (const kind of peers) {
      if (skipped[kind]) continue
      try {
        const r = await runOne(kind, fault, { pm2, crashlessRoot })
        results.push(r)
        log(`${fault.padEnd(11)} ${kind.padEnd(9)} benign ${pct(r.benign.successRatio)} ok, longest silence ${r.longestSilence.ms} ms, faulty ${r.faulty.count}: ${fmtCounts(r.faulty.outcomes)}`)
      } catch (err) {
        log(`${fault} ${kind}: run failed: ${err.message}`)
        results.push({ peer: kind, fault, error: err.message, goal: { pass: false } })
      }
    }
  }
  printReport(results)
  for (const [kind, why] of Object.entries(skipped)) console.log(`NOTE: ${kind} not measured: ${why.split('\n')[0]}`)
  const file = writeResults('faults', {
    bench: 'faults',
    machine: machineInfo(),
    config: {
      faults: opts.faults,
      peers: opts.peers,
      durationSec: opts.duration,
      warmupSec: opts.warmup,
      faultIntervalMs: opts.interval,
      benignConcurrency: opts.concurrency,
      benignTimeoutMs: opts['benign-timeout'],
      faultTimeoutMs: opts['fault-timeout'],
      heapMbForPm2: opts['heap-mb'],
    },
    skipped,
    results,
  }, { scratch: opts.quick })
  log(`wrote ${path.relative(process.cwd(), file)}`)
  if (opts.strict && results.some((r) => r.peer === 'crashless' && !r.goal.pass)) process.exitCode = 1
}

function printReport(results) {
  const rows = results.map((r) =>
    r.error
      ? [r.fault, r.peer, 'error', '-', '-', '-', '-', '-', '-', '-', '-', r.error.split('\n')[0].slice(0, 60)]
      : [
          r.fault,
          r.peer,
          `${r.benign.ok}/${r.benign.total}`,
          pct(r.benign.successRatio),
          r.longestSilence.ms.toFixed(1) + (r.longestSilence.clientStalledMs > r.longestSilence.ms / 2 ? '*' : ''),
          r.client.longestStallMs.toFixed(1),
          r.benign.p99.toFixed(2),
          r.benign.max.toFixed(1),
          r.faulty.count,
          fmtCounts(r.faulty.outcomes),
          fmtCounts(r.peerInfo?.events ?? {}) || '-',
          `${r.goal.pass ? 'PASS' : 'FAIL'} (>=99.9%, <=${r.goal.maxSilenceMs} ms)`,
        ],
  )
  console.log(`\n${opts.duration} s per run, ${opts.concurrency} benign loops, one faulty request every ${opts.interval} ms\n`)
  console.log(
    formatTable(['fault', 'peer', 'benign ok', 'success', 'silence ms', 'client stall', 'p99 ms', 'max ms', 'faulty', 'faulty outcomes', 'peer events', 'goal'], rows),
  )
  if (results.some((r) => r.longestSilence && r.longestSilence.clientStalledMs > r.longestSilence.ms / 2)) {
    console.log('\n* more than half of that silence the bench client itself was stalled (event loop blocked or descheduled):\n  the machine is busy; the number says little about the peer. Re-run on a quiet machine.')
  }
  const failures = results.filter((r) => r.benign && r.benign.ok < r.benign.total)
  if (failures.length) {
    console.log('\nbenign failures by outcome')
    for (const r of failures) console.log(`  ${r.fault.padEnd(11)} ${r.peer.padEnd(9)} ${fmtCounts(r.benign.failures)}`)
  }
}

const pct = (x) => `${(x * 100).toFixed(x >= 0.9995 && x < 1 ? 3 : 2)}%`
const fmtCounts = (counts) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}x${n}`)
    .join(' ')

const perRunSec = opts.warmup + opts.duration + opts['benign-timeout'] / 1000 + opts['fault-timeout'] / 1000 + 45
const budgetMs = (opts.faults.length * opts.peers.length * perRunSec + 60) * 1000
await runGuarded(main, { budgetMs })

// Busy routes (issue 9): an ordinary route doing synchronous CPU work (20, 50, 200 ms per request)
// under 40 and 150 concurrent connections, crashless against PM2 cluster mode in the same run. The
// route is slow, not broken: a busy instance is never judged hung (DESIGN.md "Budgets"). Goals for
// crashless in every combo: 2xx/s >= 0.9x PM2's, no instance lost, no quarantine, nothing failed.
//
// Each combo and peer starts the peer fresh, then runs `connections` closed loops of
// GET /cpu?ms=<cpu> (keep-alive, 60 s client timeout) for warm-up + duration. Requests are counted
// by when they complete: 2xx/s is the 2xx answers completed in the measured window over its length.
// Requests still in flight at the end are aborted and reported as pending, neither success nor failure.
//
//   node bench/busy.js [--cpu 20,50,200] [--connections 40,150] [--peers crashless,pm2] [--duration 15]
//                      [--warmup 2] [--timeout 60] [--error-pause 100] [--max-requests 200000]
//                      [--rounds-per-ms <calibrated>] [--rounds 1] [--quick] [--strict] [--snapshot=false]
//
// --rounds N runs every combo N times (the peer order alternating each time) and judges the median
// of the N crashless/PM2 ratios: on a shared 2-core machine one pair of runs varies by +-10%.
import path from 'node:path'
import { calibrate } from './apps/cpu-work.js'
import { parseArgs, checkList } from './lib/args.js'
import { busyLoad } from './lib/busy-load.js'
import { crashlessVerdicts, loadStats } from './lib/busy-summary.js'
import { printReport } from './lib/busy-report.js'
import { runGuarded } from './lib/cleanup.js'
import { longestStall } from './lib/client-stalls.js'
import { machineInfo } from './lib/machine.js'
import { APPS_DIR } from './lib/paths.js'
import { preparePeers } from './lib/prepare-peers.js'
import { PEER_KINDS, cores, startPeer } from './lib/peers/index.js'
import { writeResults } from './lib/results.js'
import { round } from './lib/stats.js'

const APP = path.join(APPS_DIR, 'busy-app.js')
const MIN_RATIO = 0.9

const opts = parseArgs(process.argv.slice(2), {
  cpu: { type: 'list', default: ['20', '50', '200'] },
  connections: { type: 'list', default: ['40', '150'] },
  peers: { type: 'list', default: ['crashless', 'pm2'] },
  duration: { type: 'number', default: undefined },
  warmup: { type: 'number', default: undefined },
  timeout: { type: 'number', default: 60 },
  'error-pause': { type: 'number', default: 100 },
  'max-requests': { type: 'number', default: 200_000 },
  'rounds-per-ms': { type: 'number', default: 0 },
  rounds: { type: 'number', default: 1 },
  snapshot: { type: 'boolean', default: true },
  quick: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
})
// --quick shortens only what was not given: `--quick --duration 15` is a full-length run to scratch.
opts.duration ??= opts.quick ? 3 : 15
opts.warmup ??= opts.quick ? 1 : 2
checkList('peers', opts.peers, PEER_KINDS)
const cpus = numbers('cpu', opts.cpu, 1, 5000)
const conns = numbers('connections', opts.connections, 1, 1000)
if (opts.duration <= 0) throw new Error('--duration must be > 0')
if (!Number.isInteger(opts.rounds) || opts.rounds < 1 || opts.rounds > 20) throw new Error(`--rounds: ${opts.rounds} is not an integer in 1..20`)

function numbers(name, list, min, max) {
  return list.map((v) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: ${v} is not an integer in ${min}..${max}`)
    return n
  })
}

const log = (msg) => console.log(`[busy ${new Date().toISOString().slice(11, 19)}] ${msg}`)

// The admin endpoint is off: it would bind port 9300, which other crashless processes on the
// machine may use. Everything else is crashless's defaults (lease 1 s, request deadline 30 s).
const CRASHLESS_CONFIG = { admin: { enabled: false } }

async function runOne(kind, cpuMs, connections, roundsPerMs, env) {
  const peer = await startPeer(kind, {
    app: APP,
    readyPath: '/ok',
    tag: `busy-${cpuMs}ms-${connections}c`,
    crashlessConfig: CRASHLESS_CONFIG,
    env: { BUSY_ROUNDS_PER_MS: String(roundsPerMs) },
    ...env,
  })
  try {
    const warmupMs = opts.warmup * 1000
    const load = await busyLoad({
      origin: peer.origin,
      path: `/cpu?ms=${cpuMs}`,
      connections,
      warmupMs,
      durationMs: opts.duration * 1000,
      timeoutMs: opts.timeout * 1000,
      maxRequests: opts['max-requests'],
      errorPauseMs: opts['error-pause'],
    })
    // Read before the stop: what the peer did while it had the load (warm-up included).
    const info = await peer.info().catch((err) => ({ error: err.message }))
    return {
      peer: kind,
      cpuMs,
      connections,
      ...loadStats(load, { warmupMs }),
      clientStallMs: round(longestStall(load.stalls), 1),
      crashless: kind === 'crashless' ? crashlessVerdicts(peer.logFile) : undefined,
      restarts: kind === 'pm2' ? info.restarts : undefined,
      peerInfo: info,
      instances: peer.instances,
      startMs: round(peer.startMs, 0),
    }
  } finally {
    await peer.stop()
  }
}

/** Goals of one combo, for crashless (against PM2 for the throughput). */
function checkGoals(cpuMs, connections, byPeer) {
  const c = byPeer.crashless
  const p = byPeer.pm2
  if (!c || c.error) return { cpuMs, connections, pass: null, detail: 'crashless not measured' }
  const ratio = p && !p.error && p.reqPerSec > 0 ? c.reqPerSec / p.reqPerSec : undefined
  const failed = c.non2xx + c.errors + c.timeouts
  const checks = {
    ratio: ratio === undefined ? null : ratio >= MIN_RATIO,
    instancesLost: c.crashless.instancesLost === 0,
    quarantined: c.crashless.quarantined === 0,
    failed: failed === 0,
  }
  const pass = Object.values(checks).includes(false) ? false : Object.values(checks).includes(null) ? null : true
  return { cpuMs, connections, ratio: ratio === undefined ? null : round(ratio, 3), checks, pass }
}

/**
 * One combo's goals over its rounds: the median of the rounds' ratios against MIN_RATIO, and
 * every other check in every round.
 */
function mergeRounds(perRound) {
  if (perRound.length === 1) return perRound[0]
  const ratios = perRound.map((g) => g.ratio).filter((r) => typeof r === 'number').sort((a, b) => a - b)
  const ratio = ratios.length === 0 ? null : ratios.length % 2 === 1 ? ratios[ratios.length >> 1] : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2
  const all = (key) => (perRound.some((g) => g.checks?.[key] === false) ? false : perRound.every((g) => g.checks?.[key] === true) ? true : null)
  const checks = { ratio: ratio === null ? null : ratio >= MIN_RATIO, instancesLost: all('instancesLost'), quarantined: all('quarantined'), failed: all('failed') }
  const pass = Object.values(checks).includes(false) ? false : Object.values(checks).includes(null) ? null : true
  return { cpuMs: perRound[0].cpuMs, connections: perRound[0].connections, ratio: ratio === null ? null : round(ratio, 3), ratios, checks, pass }
}

async function main() {
  // One unit of work for the whole run and every peer: a request of `cpu` ms does the same math
  // under each of them, however many threads share the cores (see apps/cpu-work.js).
  const roundsPerMs = opts['rounds-per-ms'] || round(calibrate(), 2)
  log(`cpu work: ${roundsPerMs} rounds per ms${opts['rounds-per-ms'] ? ' (--rounds-per-ms)' : ' (calibrated: the fastest of 30 timed samples)'}`)
  const { peers, skipped, pm2, crashlessRoot } = await preparePeers(opts.peers, { snapshot: opts.snapshot, log })
  const results = []
  const goals = []
  let combo = 0
  for (const cpuMs of cpus) {
    for (const connections of conns) {
      const perRound = []
      for (let round = 1; round <= opts.rounds; round++) {
        // The peer order alternates from run to run, so slow drift of the machine hits both.
        const order = combo++ % 2 === 0 ? peers : [...peers].reverse()
        const byPeer = {}
        for (const kind of order) {
          if (skipped[kind]) continue
          try {
            const r = { ...(await runOne(kind, cpuMs, connections, roundsPerMs, { pm2, crashlessRoot })), round }
            byPeer[kind] = r
            results.push(r)
            const lost = r.crashless ? `, lost ${r.crashless.instancesLost}, quarantined ${r.crashless.quarantined}` : ''
            log(`cpu ${cpuMs} ms x ${connections} conns ${kind.padEnd(9)} ${r.ok} 2xx (${r.reqPerSec}/s), non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}, pending ${r.pending} (oldest ${r.oldestPendingMs} ms), p50 ${r.p50} ms, p99 ${r.p99} ms${lost}`)
          } catch (err) {
            log(`cpu ${cpuMs} ms x ${connections} conns ${kind}: run failed: ${err.message}`)
            byPeer[kind] = { peer: kind, cpuMs, connections, round, error: err.message }
            results.push(byPeer[kind])
          }
        }
        perRound.push(checkGoals(cpuMs, connections, byPeer))
      }
      goals.push(mergeRounds(perRound))
    }
  }
  printReport({ results, goals, opts, minRatio: MIN_RATIO })
  for (const [kind, why] of Object.entries(skipped)) console.log(`NOTE: ${kind} not measured: ${why.split('\n')[0]}`)
  const file = writeResults('busy', {
    bench: 'busy',
    machine: machineInfo(),
    config: {
      cpuMs: cpus,
      roundsPerMs,
      rounds: opts.rounds,
      connections: conns,
      peers: opts.peers,
      instances: cores(),
      durationSec: opts.duration,
      warmupSec: opts.warmup,
      clientTimeoutSec: opts.timeout,
      errorPauseMs: opts['error-pause'],
      maxRequests: opts['max-requests'],
      crashlessConfig: CRASHLESS_CONFIG,
      minRatio: MIN_RATIO,
    },
    skipped,
    goals,
    results,
  }, { scratch: opts.quick })
  log(`wrote ${path.relative(process.cwd(), file)}`)
  if (opts.strict && goals.some((g) => g.pass === false)) process.exitCode = 1
}

// Per run: the peer's start (up to 30 s), the load, and its stop (crashless drains up to 15 s).
const perRunSec = opts.warmup + opts.duration + 60
const budgetMs = (cpus.length * conns.length * opts.peers.length * opts.rounds * perRunSec + 60) * 1000
await runGuarded(main, { budgetMs })

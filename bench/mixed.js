// Mixed workload (issue 14.4): 95% of requests do ~0.2 ms of CPU, 5% do ~20 ms, on the same
// unmodified app (busy-app.js). PM2 pins each connection to a worker (round-robin at accept), so
// a fast request waits behind whatever slow one its worker runs; crashless places every request
// on the least-loaded instance. Goal: p99 of the fast requests under crashless <= 0.5x PM2's.
//
//   node bench/mixed.js [--rounds 3] [--duration 10] [--warmup 2] [--connections 40] [--utilization 0.5]
//                       [--slow-share 0.05] [--fast-ms 0.2] [--slow-ms 20] [--peers pm2,crashless]
//                       [--rounds-per-ms <calibrated>] [--quick] [--strict] [--snapshot=false]
//
// Requests arrive open-loop at the rate that keeps the cores --utilization busy with the app's
// work (default 50%: a loaded but healthy server), over up to --connections keep-alive
// connections; fast/slow and the gaps come from seeded generators, so every peer gets the same
// sequence. Latency counts from when a request was due. Peers run one at a time, their order
// rotating per round; medians over rounds are reported.
import path from 'node:path'
import { Pool } from 'undici'
import { calibrate } from './apps/cpu-work.js'
import { parseArgs, checkList } from './lib/args.js'
import { runGuarded } from './lib/cleanup.js'
import { LatencyHistogram } from './lib/latency-histogram.js'
import { machineInfo } from './lib/machine.js'
import { APPS_DIR } from './lib/paths.js'
import { preparePeers } from './lib/prepare-peers.js'
import { PEER_KINDS, cores, startPeer } from './lib/peers/index.js'
import { writeResults } from './lib/results.js'
import { median, round } from './lib/stats.js'
import { formatTable } from './lib/table.js'

const APP = path.join(APPS_DIR, 'busy-app.js')
const GOAL = 0.5

const opts = parseArgs(process.argv.slice(2), {
  rounds: { type: 'number', default: 3 },
  duration: { type: 'number', default: 10 },
  warmup: { type: 'number', default: 2 },
  connections: { type: 'number', default: 40 },
  utilization: { type: 'number', default: 0.5 },
  'slow-share': { type: 'number', default: 0.05 },
  'fast-ms': { type: 'number', default: 0.2 },
  'slow-ms': { type: 'number', default: 20 },
  'rounds-per-ms': { type: 'number', default: 0 },
  peers: { type: 'list', default: ['pm2', 'crashless'] },
  snapshot: { type: 'boolean', default: true },
  quick: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
})
if (opts.quick) Object.assign(opts, { rounds: 1, duration: 4, warmup: 1 })
checkList('peers', opts.peers, PEER_KINDS)
if (!(opts['slow-share'] > 0 && opts['slow-share'] < 1)) throw new Error('--slow-share must be between 0 and 1')

const log = (msg) => console.log(`[mixed ${new Date().toISOString().slice(11, 19)}] ${msg}`)

/** mulberry32: the same request mix for every peer. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Open loop: requests arrive at `rate` per second (seeded exponential gaps, so bursts happen as
 * they do in production) whatever the server does; each is timed from when it was due, so time
 * spent waiting for a free connection counts (no coordinated omission). 5% slow, seeded.
 */
async function mixedLoad(origin, rate) {
  const pool = new Pool(origin, { connections: opts.connections, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 })
  const fast = new LatencyHistogram()
  const slow = new LatencyHistogram()
  const gap = random(1)
  const pick = random(2)
  let errors = 0
  let late = 0
  const fastPath = `/cpu?ms=${opts['fast-ms']}`
  const slowPath = `/cpu?ms=${opts['slow-ms']}`
  const start = performance.now()
  const measureFrom = start + opts.warmup * 1000
  const stopAt = measureFrom + opts.duration * 1000
  const pending = new Set()
  let due = start
  async function one(isSlow, dueAt) {
    try {
      const res = await pool.request({ path: isSlow ? slowPath : fastPath, method: 'GET' })
      await res.body.dump()
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
      if (dueAt >= measureFrom) (isSlow ? slow : fast).record(performance.now() - dueAt)
    } catch {
      if (dueAt >= measureFrom) errors++
    }
  }
  while (due < stopAt) {
    const now = performance.now()
    if (now < due) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - now - 0.5)))
      continue
    }
    if (now - due > 50) late++
    const p = one(pick() < opts['slow-share'], due).finally(() => pending.delete(p))
    pending.add(p)
    due += (-Math.log(1 - gap()) * 1000) / rate
  }
  try {
    await Promise.all(pending)
  } finally {
    await pool.destroy().catch(() => {})
  }
  return {
    fastPerSec: fast.count / opts.duration,
    slowPerSec: slow.count / opts.duration,
    fastP50: fast.percentile(50),
    fastP99: fast.percentile(99),
    slowP99: slow.percentile(99),
    errors,
    lateSends: late,
  }
}

async function main() {
  const roundsPerMs = opts['rounds-per-ms'] || calibrate()
  log(`calibrated ${roundsPerMs.toFixed(1)} rounds per ms of CPU`)
  // The arrival rate that keeps the cores `utilization` busy with the app's own work.
  const meanMs = opts['slow-share'] * opts['slow-ms'] + (1 - opts['slow-share']) * opts['fast-ms']
  const rate = (opts.utilization * cores() * 1000) / meanMs
  log(`${rate.toFixed(0)} requests/s (${opts.utilization * 100}% of ${cores()} cores at ${meanMs.toFixed(2)} ms of CPU per request on average)`)
  const { peers, skipped, pm2, crashlessRoot } = await preparePeers(opts.peers, { snapshot: opts.snapshot, log })
  const samples = Object.fromEntries(peers.map((p) => [p, []]))
  for (let r = 1; r <= opts.rounds; r++) {
    const order = peers.map((_, i) => peers[(i + r - 1) % peers.length])
    for (const kind of order) {
      if (skipped[kind]) continue
      const peer = await startPeer(kind, { app: APP, readyPath: '/ok', tag: `mixed-r${r}`, pm2, crashlessRoot, env: { BUSY_ROUNDS_PER_MS: String(roundsPerMs) } })
      try {
        const res = await mixedLoad(peer.origin, rate)
        samples[kind].push(res)
        log(`round ${r}/${opts.rounds} ${kind.padEnd(9)} fast ${res.fastPerSec.toFixed(0)}/s p50 ${res.fastP50.toFixed(2)} p99 ${res.fastP99.toFixed(2)} ms  slow ${res.slowPerSec.toFixed(1)}/s p99 ${res.slowP99.toFixed(1)} ms  errors ${res.errors}`)
      } finally {
        await peer.stop()
      }
    }
  }
  const summary = {}
  for (const kind of peers) {
    const xs = samples[kind]
    if (xs.length === 0) continue
    summary[kind] = {
      fastPerSec: round(median(xs.map((x) => x.fastPerSec)), 0),
      slowPerSec: round(median(xs.map((x) => x.slowPerSec)), 1),
      fastP50: round(median(xs.map((x) => x.fastP50)), 2),
      fastP99: round(median(xs.map((x) => x.fastP99)), 2),
      slowP99: round(median(xs.map((x) => x.slowP99)), 1),
      errors: xs.reduce((n, x) => n + x.errors, 0),
      rounds: xs.map((x) => round(x.fastP99, 2)),
      lateSends: xs.reduce((n, x) => n + x.lateSends, 0),
    }
  }
  const c = summary.crashless
  const p = summary.pm2
  const goals = [
    c && p
      ? { goal: `fast requests' p99 under crashless <= ${GOAL}x PM2's`, pass: c.fastP99 <= GOAL * p.fastP99, detail: `${c.fastP99} vs ${p.fastP99} ms (${(c.fastP99 / p.fastP99).toFixed(2)}x)` }
      : { goal: 'crashless vs PM2', pass: null, detail: 'not measured (need both)' },
    c ? { goal: 'crashless: no errors', pass: c.errors === 0, detail: `${c.errors} errors` } : null,
  ].filter(Boolean)
  const rows = Object.entries(summary).map(([kind, s]) => [kind, s.fastPerSec, s.fastP50.toFixed(2), s.fastP99.toFixed(2), s.slowPerSec, s.slowP99, s.errors, s.rounds.join(' ')])
  console.log(`\nmedians over ${opts.rounds} round(s), ${opts.duration} s each, ${opts.connections} connections; ${opts['slow-share'] * 100}% of requests ~${opts['slow-ms']} ms of CPU, the rest ~${opts['fast-ms']} ms\n`)
  console.log(formatTable(['peer', 'fast/s', 'fast p50 ms', 'fast p99 ms', 'slow/s', 'slow p99 ms', 'errors', 'fast p99 per round'], rows))
  console.log('\ngoals')
  for (const g of goals) console.log(`  ${g.pass === true ? 'PASS' : g.pass === false ? 'FAIL' : 'N/A '}  ${g.goal}: ${g.detail}`)
  for (const [kind, why] of Object.entries(skipped)) console.log(`NOTE: ${kind} not measured: ${why.split('\n')[0]}`)
  const file = writeResults('mixed', {
    bench: 'mixed',
    machine: machineInfo(),
    config: { utilization: opts.utilization, ratePerSec: round(rate, 0), rounds: opts.rounds, durationSec: opts.duration, warmupSec: opts.warmup, connections: opts.connections, slowShare: opts['slow-share'], fastMs: opts['fast-ms'], slowMs: opts['slow-ms'], roundsPerMs: round(roundsPerMs, 1), peers: opts.peers },
    skipped,
    summary,
    goals,
    samples,
  }, { scratch: opts.quick })
  log(`wrote ${path.relative(process.cwd(), file)}`)
  if (opts.strict && goals.some((g) => g.pass !== true)) process.exitCode = 1
}

const budgetMs = (opts.rounds * opts.peers.length * (opts.warmup + opts.duration + 40) + 120) * 1000
await runGuarded(main, { budgetMs })

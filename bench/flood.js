// Crash flood (issue 9, point 2): distinct crashing requests at a fixed rate, ~115/s for 60 s, beside
// benign traffic, under crashless and PM2 cluster mode in the same run (each peer started fresh).
// Recovery work must not starve the service of CPU or memory: the issue saw 400-511 threads and
// 3.4-3.9 GB of RSS (90 MB idle) kept alive by tainted instances waiting to retire.
//
// Per peer: 20 closed loops of GET /ok over keep-alive (1 s warm-up, then the measured period,
// 5 s timeout) and, once measuring, GET /poison/<kind>?v=<i> (a new signature every time) sent
// open loop, one every 1000/rate ms (8.7 ms at 115/s), fire-and-forget on a fresh connection
// (2 s timeout), at most 300 open at once (a shot due beyond that is skipped and counted).
// Threads and RSS of the peer's processes (crashless: its one process, instances are threads; PM2:
// the app's worker processes) are sampled every 250 ms: idle (before the load), peak and end.
//
// Reported: benign success, share of 100 ms windows served, longest silence, p99; poison sent (the
// rate reached), skipped, outcomes; instances lost (crashless, from its log) or PM2 restarts;
// threads and RSS idle/peak/end. Goal (issue 9, point 2), for crashless: peak threads and peak RSS
// <= 2x their idle figure. PM2 rows show what the same app gets without crashless.
//
//   node bench/flood.js [--peers crashless,pm2] [--rate 115] [--duration 60] [--warmup 1]
//                       [--kind throw] [--concurrency 20] [--max-inflight 300] [--benign-timeout 5000]
//                       [--poison-timeout 2000] [--heap-mb 512] [--quick] [--strict] [--snapshot=false]
import path from 'node:path'
import { parseArgs, checkList } from './lib/args.js'
import { runGuarded } from './lib/cleanup.js'
import { stallOverlap, longestStall } from './lib/client-stalls.js'
import { longestSilence } from './lib/gaps.js'
import { loadWithShooter } from './lib/load-with-shooter.js'
import { machineInfo } from './lib/machine.js'
import { APPS_DIR } from './lib/paths.js'
import { preparePeers } from './lib/prepare-peers.js'
import { PEER_KINDS, startPeer } from './lib/peers/index.js'
import { fmtCounts } from './lib/poison-report.js'
import { benignStats, crashStats, poisonStats } from './lib/poison-summary.js'
import { rateShooter } from './lib/rate-shooter.js'
import { resourceCell, sampleResources } from './lib/resources.js'
import { writeResults } from './lib/results.js'
import { round } from './lib/stats.js'
import { formatTable } from './lib/table.js'

const APP = path.join(APPS_DIR, 'poison-app.js')
// Kinds that crash (and answer, or fail fast): a flood of loops or hangs measures something else.
const CRASH_KINDS = ['throw', 'async-throw', 'reject', 'exit', 'stack']
const MAX_GROWTH = 2 // goal: peak <= 2x idle, threads and RSS
const ROUTINE_EVENTS = new Set(['listening', 'shutdown', 'stopped'])

const opts = parseArgs(process.argv.slice(2), {
  peers: { type: 'list', default: ['crashless', 'pm2'] },
  rate: { type: 'number', default: 115 },
  duration: { type: 'number', default: undefined },
  warmup: { type: 'number', default: undefined },
  kind: { type: 'string', default: 'throw' },
  concurrency: { type: 'number', default: 20 },
  'max-inflight': { type: 'number', default: 300 },
  'benign-timeout': { type: 'number', default: 5000 },
  'poison-timeout': { type: 'number', default: 2000 },
  'heap-mb': { type: 'number', default: 512 },
  snapshot: { type: 'boolean', default: true },
  quick: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
})
// --quick shortens only what was not given: `--quick --duration 60` is a full-length run to scratch.
opts.duration ??= opts.quick ? 5 : 60
opts.warmup ??= opts.quick ? 0.5 : 1
checkList('peers', opts.peers, PEER_KINDS)
checkList('kind', [opts.kind], CRASH_KINDS)
if (opts.duration <= 0 || opts.rate <= 0 || opts.rate > 2000) throw new Error('--duration must be > 0 and --rate in (0, 2000]')
if (opts['max-inflight'] < 1) throw new Error('--max-inflight must be >= 1')

const log = (msg) => console.log(`[flood ${new Date().toISOString().slice(11, 19)}] ${msg}`)

// Same crashless setup as bench:poison: admin off (port 9300 may be taken by other crashless
// processes); its default heap cap (512 MB) and PM2's --max-old-space-size match.
const CRASHLESS_CONFIG = { admin: { enabled: false } }

async function runOne(kind, env) {
  const peer = await startPeer(kind, { app: APP, readyPath: '/ok', tag: `flood-${opts.kind}`, heapMb: opts['heap-mb'], crashlessConfig: CRASHLESS_CONFIG, ...env })
  // Threads and RSS: the idle sample now, before the warm-up; the end one once the last poison
  // has been answered or timed out (at most --poison-timeout after the flood).
  const sampler = sampleResources(() => peer.pids())
  try {
    const durationMs = opts.duration * 1000
    const shooter = rateShooter({
      origin: peer.origin,
      pathFor: (i) => `/poison/${opts.kind}?v=${i}`,
      rate: opts.rate,
      durationMs,
      timeoutMs: opts['poison-timeout'],
      maxInFlight: opts['max-inflight'],
    })
    const { samples, shots, stalls } = await loadWithShooter({
      shooter,
      origin: peer.origin,
      concurrency: opts.concurrency,
      durationMs,
      warmupMs: opts.warmup * 1000,
      timeoutMs: opts['benign-timeout'],
    })
    const resources = sampler.stop()
    const info = await peer.info().catch((err) => ({ error: err.message }))
    return summarize(kind, { samples, shots, stalls, durationMs, info, resources, logFile: peer.logFile, startMs: peer.startMs, maxInFlight: shooter.maxInFlightSeen() })
  } finally {
    sampler.stop()
    await peer.stop()
  }
}

function summarize(peer, { samples, shots, stalls, durationMs, info, resources, logFile, startMs, maxInFlight }) {
  const benign = benignStats(samples, durationMs)
  const silence = longestSilence(samples.okEndsSorted(), durationMs)
  const sent = shots.filter((s) => !s.skipped)
  const crashes = crashStats(peer, { logFile, info, shots: sent })
  const growth = (figure) => (resources.idle[figure] > 0 && resources.peak[figure] !== null ? round(resources.peak[figure] / resources.idle[figure], 2) : null)
  const threadsX = growth('threads')
  const rssX = growth('rssMb')
  // The last sample of the warm-up (benign load only, before the first poison), to tell what the
  // benign load itself costs from what the flood adds. The warm-up starts with the idle sample.
  const warm = resources.series.filter((s) => s[0] <= opts.warmup * 1000).at(-1)
  return {
    peer,
    kind: opts.kind,
    durationMs,
    benign,
    longestSilence: { ms: round(silence.ms, 1), fromMs: round(silence.from, 1), toMs: round(silence.to, 1), clientStalledMs: round(stallOverlap(stalls, silence.from, silence.to), 1) },
    poison: {
      ...poisonStats(sent),
      due: shots.length,
      skipped: shots.length - sent.length,
      ratePerSec: round(sent.length / (durationMs / 1000), 1),
      maxInFlight,
    },
    // Threads and RSS (MB) summed over the peer's processes: idle (before the load), peak, end;
    // growth: peak / idle.
    resources,
    benignOnly: warm ? { atMs: warm[0], threads: warm[1], rssMb: warm[2] } : null,
    growth: { threads: threadsX, rss: rssX },
    crashes: {
      instances: crashes.instances,
      byRole: crashes.byRole,
      restarts: crashes.restarts,
      statuses: crashes.statuses,
      quarantinedSignatures: crashes.quarantinedSignatures,
      bulkhead: crashes.bulkhead ? { atMs: crashes.bulkhead.atMs, poisonsBefore: crashes.bulkhead.poisonsBefore } : null,
      reasons: crashes.reasons,
      logEvents: crashes.logEvents,
    },
    client: { longestStallMs: round(longestStall(stalls), 1), stalls: stalls.length },
    peerInfo: info,
    startMs: round(startMs, 0),
    goal: { maxGrowth: MAX_GROWTH, pass: threadsX !== null && rssX !== null && threadsX <= MAX_GROWTH && rssX <= MAX_GROWTH },
  }
}

async function main() {
  const began = Date.now()
  const { peers, skipped, pm2, crashlessRoot } = await preparePeers(opts.peers, { snapshot: opts.snapshot, log })
  const results = []
  for (const kind of peers) {
    try {
      const r = await runOne(kind, { pm2, crashlessRoot })
      results.push(r)
      log(
        `${kind.padEnd(9)} benign ${pct(r.benign.successRatio)} ok, windows served ${pct(r.benign.windowsServed.ratio)}, poison ${r.poison.sent} (${r.poison.ratePerSec}/s, ${r.poison.skipped} skipped), threads ${resourceCell(r.resources, 'threads')}, RSS MB ${resourceCell(r.resources, 'rssMb')}`,
      )
    } catch (err) {
      log(`${kind}: run failed: ${err.message}`)
      results.push({ peer: kind, kind: opts.kind, error: err.message, goal: { pass: false } })
    }
  }
  printReport(results)
  for (const [kind, why] of Object.entries(skipped)) console.log(`NOTE: ${kind} not measured: ${why.split('\n')[0]}`)
  const file = writeResults(
    'flood',
    {
      bench: 'flood',
      machine: machineInfo(),
      config: {
        peers: opts.peers,
        kind: opts.kind,
        ratePerSec: opts.rate,
        durationSec: opts.duration,
        warmupSec: opts.warmup,
        benignConcurrency: opts.concurrency,
        maxPoisonInFlight: opts['max-inflight'],
        benignTimeoutMs: opts['benign-timeout'],
        poisonTimeoutMs: opts['poison-timeout'],
        heapMb: opts['heap-mb'],
        crashlessConfig: CRASHLESS_CONFIG,
        windowMs: 100,
        resourceSampleMs: 250,
        maxGrowth: MAX_GROWTH,
      },
      skipped,
      elapsedSec: round((Date.now() - began) / 1000, 0),
      results,
    },
    { scratch: opts.quick },
  )
  log(`wrote ${path.relative(process.cwd(), file)} after ${Math.round((Date.now() - began) / 1000)} s`)
  if (opts.strict && results.some((r) => r.peer === 'crashless' && !r.goal.pass)) process.exitCode = 1
}

function printReport(results) {
  const header = ['peer', 'benign ok', 'success', 'windows', 'silence ms', 'p99 ms', 'poison sent', 'rate/s', 'skipped', 'instances lost', 'threads', 'RSS MB', 'growth thr/RSS', 'client stall']
  const rows = results.map((r) =>
    r.error
      ? [r.peer, 'error', ...Array(header.length - 3).fill('-'), r.error.split('\n')[0].slice(0, 60)]
      : [
          r.peer,
          `${r.benign.ok}/${r.benign.total}`,
          pct(r.benign.successRatio),
          pct(r.benign.windowsServed.ratio),
          r.longestSilence.ms.toFixed(1) + (r.longestSilence.clientStalledMs > r.longestSilence.ms / 2 ? '*' : ''),
          ms(r.benign.p99),
          r.poison.sent,
          r.poison.ratePerSec,
          r.poison.skipped,
          lostCell(r),
          resourceCell(r.resources, 'threads'),
          resourceCell(r.resources, 'rssMb'),
          `${x(r.growth.threads)}/${x(r.growth.rss)}`,
          r.client.longestStallMs.toFixed(1),
        ],
  )
  console.log(`\n${opts.duration} s per run, ${opts.concurrency} benign loops, GET /poison/${opts.kind}?v=<new> at ${opts.rate}/s (open loop, <= ${opts['max-inflight']} in flight)`)
  console.log(`windows: share of the 100 ms windows with a successful benign response; threads, RSS MB: idle/peak/end of the peer's processes; growth: peak / idle\n`)
  console.log(formatTable(header, rows))
  const ok = results.filter((r) => !r.error)
  console.log('\npoison outcomes')
  for (const r of ok) console.log(`  ${r.peer.padEnd(9)} ${fmtCounts(r.poison.outcomes) || '-'} (max ${r.poison.maxInFlight} in flight)`)
  console.log('\npeer events')
  for (const r of ok) {
    const c = r.crashes
    const events = Object.fromEntries(Object.entries(c.logEvents ?? {}).filter(([e]) => !ROUTINE_EVENTS.has(e)))
    const detail = r.peer === 'crashless' ? `${fmtCounts(events) || '-'} | reasons ${fmtCounts(c.reasons) || '-'}` : `restarts ${c.restarts ?? '-'}, statuses ${(c.statuses ?? []).join(',') || '-'}`
    console.log(`  ${r.peer.padEnd(9)} ${detail}`)
  }
  const failures = ok.filter((r) => r.benign.ok < r.benign.total)
  if (failures.length) {
    console.log('\nbenign failures by outcome')
    for (const r of failures) console.log(`  ${r.peer.padEnd(9)} ${fmtCounts(r.benign.failures)}`)
  }
  if (ok.some((r) => r.longestSilence.clientStalledMs > r.longestSilence.ms / 2)) {
    console.log('\n* more than half of that silence the bench client itself was stalled: the machine is busy.')
  }
  console.log('')
  for (const r of results.filter((x) => x.peer === 'crashless')) {
    if (r.error) {
      console.log(`crashless goal (peak threads and peak RSS <= ${MAX_GROWTH}x idle): FAIL (run failed)`)
      continue
    }
    const { idle, peak, end } = r.resources
    const warm = r.benignOnly ? ` (end of warm-up, benign load only: ${r.benignOnly.threads} threads, ${r.benignOnly.rssMb} MB)` : ''
    console.log(
      `crashless goal (issue 9.2: peak threads and peak RSS <= ${MAX_GROWTH}x idle): ${r.goal.pass ? 'PASS' : 'FAIL'}: ` +
        `threads ${idle.threads} idle, ${peak.threads} peak (${x(r.growth.threads)}), ${end.threads} end; ` +
        `RSS ${idle.rssMb} MB idle, ${peak.rssMb} MB peak (${x(r.growth.rss)}), ${end.rssMb} MB end${warm}`,
    )
  }
}

const pct = (v) => `${(v * 100).toFixed(v >= 0.9995 && v < 1 ? 3 : 2)}%`
const ms = (v) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(v >= 100 ? 0 : 2))
const x = (v) => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`)
const lostCell = (r) => (r.peer === 'crashless' ? `${r.crashes.instances} (${r.crashes.byRole.serving} srv, ${r.crashes.byRole.sacrificial} sac)` : r.crashes.restarts === null ? '-' : `${r.crashes.restarts} restarts`)

// Watchdog: per peer its start/stop (~45 s at most), warm-up, the flood and the last timeouts.
const perRunSec = opts.warmup + opts.duration + opts['benign-timeout'] / 1000 + opts['poison-timeout'] / 1000 + 45
const budgetMs = (opts.peers.length * perRunSec + 60) * 1000
await runGuarded(main, { budgetMs })

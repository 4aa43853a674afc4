// Runtime death and reload under load (issue 10, point 8): the same unmodified node:http app under
// crashless (a keeper, an active runtime and a warm standby) and PM2 cluster mode, with the same
// number of instances, in the same run, each run starting its peer fresh.
//
// Cases, each under a closed-loop benign load (40 keep-alive connections, GET /work?ms=1: ~1 ms of
// CPU, answered with the serving process's pid, so the client sees who took over and when):
//   kill    at the middle of the measured period, SIGKILL of a serving process: crashless's active
//           runtime (the pid of its last `listening` log line; the keeper must stay alive), or one
//           PM2 worker (PM2's other worker keeps serving, and PM2 restarts the killed one).
//   reload  at 0.3 of the period, a zero-downtime reload: SIGHUP to crashless's keeper (what
//           `crashless reload` asks for), or `pm2 reload <app>` (known to drop requests:
//           Unitech/pm2#2573, #3407, #2729).
//
// Reported: benign success, failed requests by outcome, ECONNREFUSED, the share of 100 ms windows
// with a success, the longest silence, the time from the event to the first success from another
// process and from the process that took over (crashless: the promoted / reloaded runtime, named by
// its log; PM2: a worker pid that was not serving before), and the event's cost in ms of full
// service (lib/resilience-summary.js). Goals (issue 10.2 and 10.5) for crashless: kill: 0 refused,
// first success from the promoted runtime <= 100 ms after the death, no more failures than the
// dead runtime's connections (the load's concurrency), the keeper alive; reload: 0 failed requests.
//
//   node bench/resilience.js [--cases kill,reload] [--peers crashless,pm2] [--instances 2]
//                            [--concurrency 40] [--duration 10] [--warmup 1] [--work-ms 1]
//                            [--kill-at 0.5] [--reload-at 0.3] [--cost-window 2] [--benign-timeout 5000]
//                            [--rounds-per-ms <calibrated>] [--quick] [--strict] [--snapshot=false]
import fs from 'node:fs'
import path from 'node:path'
import { calibrate } from './apps/cpu-work.js'
import { parseArgs, checkList } from './lib/args.js'
import { runGuarded } from './lib/cleanup.js'
import { machineInfo } from './lib/machine.js'
import { APPS_DIR, REPO_DIR } from './lib/paths.js'
import { pidLoop } from './lib/pid-loop.js'
import { readLogEvents } from './lib/poison-attribution.js'
import { preparePeers } from './lib/prepare-peers.js'
import { startPeer } from './lib/peers/index.js'
import { childPids, pm2AppName } from './lib/resources.js'
import { crashlessEventInfo, summarizeLoad } from './lib/resilience-summary.js'
import { printReport } from './lib/resilience-report.js'
import { writeResults } from './lib/results.js'
import { round } from './lib/stats.js'

const APP = path.join(APPS_DIR, 'resilience-app.js')
const CASES = ['kill', 'reload']
const PEERS = ['crashless', 'pm2']
// Budgets of issue 10 (point 2 and 5), checked for crashless.
const GOALS = { firstSuccessMs: 100, refused: 0, reloadFailed: 0 }

const opts = parseArgs(process.argv.slice(2), {
  cases: { type: 'list', default: CASES },
  peers: { type: 'list', default: PEERS },
  instances: { type: 'number', default: 2 },
  concurrency: { type: 'number', default: 40 },
  duration: { type: 'number', default: undefined },
  warmup: { type: 'number', default: undefined },
  'work-ms': { type: 'number', default: 1 },
  'kill-at': { type: 'number', default: 0.5 },
  'reload-at': { type: 'number', default: 0.3 },
  'cost-window': { type: 'number', default: 2 },
  'benign-timeout': { type: 'number', default: 5000 },
  'max-requests': { type: 'number', default: 2_000_000 },
  'rounds-per-ms': { type: 'number', default: 0 },
  snapshot: { type: 'boolean', default: true },
  quick: { type: 'boolean', default: false },
  strict: { type: 'boolean', default: false },
})
// --quick shortens only what was not given: `--quick --duration 10` is a full-length run to scratch.
opts.duration ??= opts.quick ? 3 : 10
opts.warmup ??= opts.quick ? 0.5 : 1
checkList('cases', opts.cases, CASES)
checkList('peers', opts.peers, PEERS)
if (opts.duration <= 0) throw new Error('--duration must be > 0')
if (!Number.isInteger(opts.instances) || opts.instances < 1) throw new Error('--instances must be an integer >= 1')
for (const at of ['kill-at', 'reload-at']) if (!(opts[at] > 0 && opts[at] < 1)) throw new Error(`--${at} must be in (0, 1): a fraction of --duration`)

const log = (msg) => console.log(`[resilience ${new Date().toISOString().slice(11, 19)}] ${msg}`)

// The admin endpoint is off: it would bind port 9300, which other crashless processes on the
// machine may use (the reload is asked for with SIGHUP instead). Everything else is crashless's
// defaults: keeper with a warm standby, restart intensity 5 deaths in 60 s (one per run here).
const CRASHLESS_CONFIG = { admin: { enabled: false } }
const PM2_BIN = path.join(REPO_DIR, 'node_modules', 'pm2', 'bin', 'pm2')

/** The pid of crashless's active runtime: the last `listening` line (logged on every promotion). */
function activeRuntimePid(logFile) {
  const pid = readLogEvents(logFile).findLast((e) => e.event === 'listening')?.pid
  if (!Number.isInteger(pid)) throw new Error(`no listening line with a pid in ${logFile}`)
  return pid
}

/**
 * Fires the case's event on `peer` now. Returns { atMs, wallMs, killedPid?, pidsBefore, doneAtMs?, done }
 * (done: a promise, for `pm2 reload`, which runs a while). Only ever signals a process this run
 * started: crashless's keeper or a child of it, or a worker of this run's PM2 app.
 */
function fireEvent(caseName, peer, t0, pm2) {
  const ev = { case: caseName, atMs: 0, wallMs: 0, pidsBefore: new Set(), done: Promise.resolve() }
  const stamp = () => {
    ev.atMs = round(performance.now() - t0, 1)
    ev.wallMs = Date.now()
  }
  if (peer.kind === 'crashless') {
    // pids()[0] is the process the bench spawned: `crashless run`, i.e. the keeper.
    const keeper = peer.pids()[0]
    const active = activeRuntimePid(peer.logFile)
    if (!childPids(keeper).includes(active)) throw new Error(`runtime ${active} is not a child of the keeper ${keeper}`)
    ev.pidsBefore.add(active)
    ev.keeperPid = keeper
    if (caseName === 'kill') {
      ev.killedPid = active
      stamp()
      process.kill(active, 'SIGKILL')
    } else {
      stamp()
      process.kill(keeper, 'SIGHUP')
    }
    return ev
  }
  for (const pid of peer.listedPids) ev.pidsBefore.add(pid)
  if (caseName === 'kill') {
    const victim = peer.listedPids[0]
    if (pm2AppName(victim) !== peer.name) throw new Error(`pid ${victim} is not a worker of ${peer.name} (any more)`)
    ev.killedPid = victim
    stamp()
    process.kill(victim, 'SIGKILL')
    return ev
  }
  stamp()
  ev.done = pm2.run(['reload', peer.name]).then(
    () => {
      ev.doneAtMs = round(performance.now() - t0, 1)
    },
    (err) => {
      ev.error = err.message.split('\n')[0]
    },
  )
  return ev
}

async function runOne(caseName, kind, ctx) {
  const peer = await startPeer(kind, {
    app: APP,
    readyPath: '/ok',
    tag: `resilience-${caseName}`,
    instances: opts.instances,
    crashlessConfig: CRASHLESS_CONFIG,
    env: { BUSY_ROUNDS_PER_MS: String(ctx.roundsPerMs) },
    pm2: ctx.pm2,
    crashlessRoot: ctx.crashlessRoot,
  })
  try {
    const durationMs = opts.duration * 1000
    const at = (caseName === 'kill' ? opts['kill-at'] : opts['reload-at']) * durationMs
    let ev
    let fireError
    let timer
    const load = await pidLoop({
      origin: peer.origin,
      path: `/work?ms=${opts['work-ms']}`,
      concurrency: opts.concurrency,
      durationMs,
      warmupMs: opts.warmup * 1000,
      timeoutMs: opts['benign-timeout'],
      maxRequests: opts['max-requests'],
      onStart: (t0) => {
        timer = setTimeout(() => {
          try {
            ev = fireEvent(caseName, peer, t0, ctx.pm2)
          } catch (err) {
            fireError = err
          }
        }, at)
      },
    })
    clearTimeout(timer)
    if (fireError) throw fireError
    if (!ev) throw new Error('the event did not fire within the run')
    await ev.done
    const eventInfo = kind === 'crashless' ? crashlessEventInfo(readLogEvents(peer.logFile), { caseName, eventWallMs: ev.wallMs, killedPid: ev.killedPid }) : await pm2EventInfo(peer)
    // The process that must take over, when the peer names it: crashless's promoted (kill) or
    // reloaded runtime. For PM2, any worker pid that was not serving before the event.
    const newPid = kind === 'crashless' ? (caseName === 'kill' ? eventInfo.promotedPid : eventInfo.reloadedPid) : undefined
    const summary = summarizeLoad(load.samples.byEnd(), {
      durationMs,
      event: { atMs: ev.atMs, killedPid: ev.killedPid, pidsBefore: ev.pidsBefore, newPid: newPid ?? undefined },
      costWindowMs: opts['cost-window'] * 1000,
      stalls: load.stalls,
    })
    // crashless's keeper must outlive its runtime's death; exited() is null while it runs.
    const peerAlive = kind === 'crashless' ? peer.exited() === null : true
    const r = {
      case: caseName,
      peer: kind,
      instances: peer.instances,
      event: { atMs: ev.atMs, killedPid: ev.killedPid ?? null, pidsBefore: [...ev.pidsBefore], keeperPid: ev.keeperPid ?? null, doneAtMs: ev.doneAtMs ?? null, error: ev.error ?? null },
      ...summary,
      peerInfo: { ...eventInfo, alive: peerAlive },
      logFile: peer.logFile ? path.relative(REPO_DIR, peer.logFile) : null,
      startMs: round(peer.startMs, 0),
    }
    r.goal = goalOf(r)
    return r
  } finally {
    await peer.stop()
  }
}

/** PM2's side after the run: its workers now, their restarts and statuses. */
async function pm2EventInfo(peer) {
  const info = await peer.info().catch((err) => ({ error: err.message }))
  return { pidsAfter: info.pids ?? null, restarts: info.restarts ?? null, statuses: info.statuses ?? null, error: info.error }
}

function goalOf(r) {
  if (r.peer !== 'crashless') return null
  if (r.case === 'kill') {
    const checks = {
      keeperAlive: r.peerInfo.alive,
      refused: r.refused <= GOALS.refused,
      firstSuccess: r.firstNewMs !== null && r.firstNewMs <= GOALS.firstSuccessMs,
      // Only the connections the dead runtime had open may fail: at most one request each.
      failedAtMostConnections: r.failed <= opts.concurrency,
    }
    return { pass: Object.values(checks).every(Boolean), checks }
  }
  const checks = { failed: r.failed <= GOALS.reloadFailed, reloaded: r.peerInfo.reloadedPid !== null }
  return { pass: Object.values(checks).every(Boolean), checks }
}

async function main() {
  const began = Date.now()
  const requested = opts.peers
  // PM2 comes from the repo's devDependencies; without it, say so rather than measure nothing quietly.
  const pm2Missing = requested.includes('pm2') && !fs.existsSync(PM2_BIN) ? `PM2 is not installed (${path.relative(REPO_DIR, PM2_BIN)} missing: run npm install)` : undefined
  const { peers, skipped, pm2, crashlessRoot } = await preparePeers(
    requested.filter((p) => !(p === 'pm2' && pm2Missing)),
    { snapshot: opts.snapshot, log },
  )
  if (pm2Missing) {
    skipped.pm2 = pm2Missing
    log(`skipping pm2: ${pm2Missing}`)
  }
  const roundsPerMs = opts['rounds-per-ms'] || round(calibrate(), 3)
  log(`work unit: ${roundsPerMs} rounds per ms; ${opts.instances} instances per peer; ${opts.concurrency} connections; ${opts.duration} s per run`)
  const results = []
  for (const [i, caseName] of opts.cases.entries()) {
    // Alternate which peer goes first, so neither always runs on the machine the other just warmed.
    const order = i % 2 === 0 ? peers : [...peers].reverse()
    for (const kind of order) {
      try {
        const r = await runOne(caseName, kind, { pm2, crashlessRoot, roundsPerMs })
        results.push(r)
        log(
          `${caseName.padEnd(6)} ${kind.padEnd(9)} ${r.ok}/${r.requests} ok, failed ${r.failed} (refused ${r.refused}), windows ${(r.windowsServed.ratio * 100).toFixed(1)}%, ` +
            `silence ${r.longestSilence.ms} ms, first other ${r.firstOtherMs ?? '-'} ms, first new ${r.firstNewMs ?? '-'} ms, cost ${r.costMs ?? '-'} ms`,
        )
      } catch (err) {
        log(`${caseName} ${kind}: run failed: ${err.message}`)
        results.push({ case: caseName, peer: kind, error: err.message, goal: kind === 'crashless' ? { pass: false } : null })
      }
    }
  }
  printReport(results, { opts, goals: GOALS })
  for (const [kind, why] of Object.entries(skipped)) console.log(`NOTE: ${kind} not measured: ${why.split('\n')[0]}`)
  const file = writeResults(
    'resilience',
    {
      bench: 'resilience',
      machine: machineInfo(),
      config: {
        cases: opts.cases,
        peers: opts.peers,
        instances: opts.instances,
        concurrency: opts.concurrency,
        durationSec: opts.duration,
        warmupSec: opts.warmup,
        path: `/work?ms=${opts['work-ms']}`,
        roundsPerMs,
        killAt: opts['kill-at'],
        reloadAt: opts['reload-at'],
        costWindowSec: opts['cost-window'],
        benignTimeoutMs: opts['benign-timeout'],
        windowMs: 100,
        crashlessConfig: CRASHLESS_CONFIG,
        goals: GOALS,
      },
      skipped,
      elapsedSec: round((Date.now() - began) / 1000, 0),
      results,
    },
    { scratch: opts.quick },
  )
  log(`wrote ${path.relative(process.cwd(), file)} after ${Math.round((Date.now() - began) / 1000)} s`)
  if (opts.strict && results.some((r) => r.peer === 'crashless' && !r.goal?.pass)) process.exitCode = 1
}

// Watchdog: per run the peer's start and stop (~45 s at most), warm-up, load, the last timeouts
// and a `pm2 reload` that may outlast the load (its CLI times out after 60 s).
const perRunSec = opts.warmup + opts.duration + opts['benign-timeout'] / 1000 + 45 + (opts.cases.includes('reload') ? 60 : 0)
const budgetMs = (opts.cases.length * opts.peers.length * perRunSec + 60) * 1000
await runGuarded(main, { budgetMs })

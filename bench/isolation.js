// Cost per request of each isolation mode: the same unmodified app (overhead-app.js, GET /trivial)
// under crashless with `--isolation worker` and `--isolation process`, one instance each, in one
// run on the same machine: req/s, and CPU µs per request (user + system, from /proc) of the
// dispatcher (the runtime's main thread) and of everything else (instances, their threads and,
// in process mode, their processes).
//
//   node bench/isolation.js [--rounds 3] [--duration 5] [--warmup 2] [--connections 50] [--quick]
//
// Runs without a keeper (--no-keeper), so only the runtime and its instances are counted. Modes
// alternate every round; medians over rounds are reported. Linux only (/proc).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from './lib/args.js'
import { onCleanup, runGuarded } from './lib/cleanup.js'
import { freePort } from './lib/free-port.js'
import { runLoad } from './lib/load.js'
import { APPS_DIR, REPO_DIR } from './lib/paths.js'
import { median, round } from './lib/stats.js'
import { waitReady } from './lib/wait-ready.js'

const MODES = ['worker', 'process']
const APP = path.join(APPS_DIR, 'overhead-app.js')
const TICK_MS = 1000 / 100 // /proc times are in clock ticks of 10 ms (USER_HZ 100).

const opts = parseArgs(process.argv.slice(2), {
  rounds: { type: 'number', default: 3 },
  duration: { type: 'number', default: 5 },
  warmup: { type: 'number', default: 2 },
  connections: { type: 'number', default: 50 },
  quick: { type: 'boolean', default: false },
})
if (opts.quick) Object.assign(opts, { rounds: 1, duration: 3, warmup: 1 })

/** utime + stime (ms) of /proc/<path>/stat, or 0 when it is gone. */
function cpuMs(statPath) {
  try {
    const stat = fs.readFileSync(statPath, 'latin1')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return 0
  }
}

/** `pid` and all its descendants. */
function tree(pid) {
  let children = []
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    // gone
  }
  return [pid, ...children.flatMap(tree)]
}

/** CPU ms so far: the runtime's main thread, and everything else of the runtime and its descendants. */
function sampleCpu(pid) {
  const main = cpuMs(`/proc/${pid}/task/${pid}/stat`)
  const all = tree(pid).reduce((sum, p) => sum + cpuMs(`/proc/${p}/stat`), 0)
  return { main, rest: all - main }
}

async function measure(mode) {
  const port = await freePort()
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), `crashless-iso-${mode}-`))
  const child = spawn(process.execPath, [path.join(REPO_DIR, 'bin', 'crashless.js'), 'run', APP, '--no-keeper', '--instances', '1', '--isolation', mode, '--port', String(port), '--admin-port', '0', '--log-level', 'warn'], {
    cwd,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }
    fs.rmSync(cwd, { recursive: true, force: true })
  }
  onCleanup(stop)
  try {
    await waitReady(`http://127.0.0.1:${port}/trivial`, { alive: () => child.exitCode === null })
    const url = `http://127.0.0.1:${port}/trivial`
    if (opts.warmup > 0) await runLoad({ url, connections: opts.connections, durationSec: opts.warmup, warmupSec: 0 })
    const before = sampleCpu(child.pid)
    const load = await runLoad({ url, connections: opts.connections, durationSec: opts.duration, warmupSec: 0 })
    const after = sampleCpu(child.pid)
    const perReq = (ms) => (ms * 1000) / Math.max(1, load.ok)
    return { reqPerSec: load.reqPerSec, p99: load.p99, dispatcherUs: perReq(after.main - before.main), instancesUs: perReq(after.rest - before.rest), non2xx: load.non2xx + load.errors }
  } finally {
    await stop()
  }
}

async function main() {
  const samples = Object.fromEntries(MODES.map((m) => [m, []]))
  for (let r = 0; r < opts.rounds; r++) {
    for (const mode of r % 2 === 0 ? MODES : [...MODES].reverse()) {
      const s = await measure(mode)
      samples[mode].push(s)
      console.log(`[isolation] round ${r + 1} ${mode}: ${Math.round(s.reqPerSec)} req/s, p99 ${round(s.p99, 2)} ms, CPU µs/req dispatcher ${round(s.dispatcherUs, 1)} + instances ${round(s.instancesUs, 1)}${s.non2xx ? `, ${s.non2xx} non-2xx/errors` : ''}`)
    }
  }
  console.log(`\nmedians over ${opts.rounds} round(s), ${opts.connections} connections, ${opts.duration} s each, GET /trivial, 1 instance, Node ${process.version}, ${os.availableParallelism()} cores:`)
  console.log('| isolation | req/s | p99 ms | CPU µs/req: dispatcher | instances | total |')
  console.log('|---|---|---|---|---|---|')
  for (const mode of MODES) {
    const m = (key) => median(samples[mode].map((s) => s[key]))
    console.log(`| ${mode} | ${Math.round(m('reqPerSec'))} | ${round(m('p99'), 2)} | ${round(m('dispatcherUs'), 1)} | ${round(m('instancesUs'), 1)} | ${round(m('dispatcherUs') + m('instancesUs'), 1)} |`)
  }
}

await runGuarded(main, { budgetMs: 10 * 60_000 })

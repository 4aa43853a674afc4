// Admin work off the request path (issue 12, point 6): does polling the admin endpoint slow the
// public route? The issue saw four local clients polling the (then unpaginated, 1.1 MB) immunity
// listing of 5,000 entries raise the public p50 from 3 ms to 137 ms.
//
// crashless (2 instances, under its keeper) on bench/apps/overhead-app.js, with 5,000 immunity
// entries seeded into its sqlite immunity store before it starts. The public route GET /trivial
// is loaded by autocannon (closed loop, --connections, keep-alive) for --duration seconds after a
// --warmup, three times: alone, with the admin pollers, alone again. The pollers: --pollers
// closed loops, each GET /immunity?limit=100 then GET /metrics back to back with no pause (more
// than any dashboard or Prometheus would ask), plus one open GET /events stream (the dashboard's
// live feed: a snapshot every 500 ms). Reported: the public route's req/s, p50 and p99 per
// phase, and the admin requests served meanwhile with their p50/p99.
//
//   node bench/admin-load.js [--duration 10] [--warmup 2] [--connections 10] [--pollers 4]
//                            [--entries 5000] [--quick]
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { parseArgs } from './lib/args.js'
import { runGuarded } from './lib/cleanup.js'
import { freePort } from './lib/free-port.js'
import { LatencyHistogram } from './lib/latency-histogram.js'
import { runLoad } from './lib/load.js'
import { machineInfo } from './lib/machine.js'
import { APPS_DIR, REPO_DIR, SCRATCH_DIR } from './lib/paths.js'
import { startPeer } from './lib/peers/index.js'
import { writeResults } from './lib/results.js'
import { round } from './lib/stats.js'
import { formatTable } from './lib/table.js'

const opts = parseArgs(process.argv.slice(2), {
  duration: { type: 'number', default: undefined },
  warmup: { type: 'number', default: undefined },
  connections: { type: 'number', default: 10 },
  pollers: { type: 'number', default: 4 },
  entries: { type: 'number', default: 5000 },
  quick: { type: 'boolean', default: false },
})
opts.duration ??= opts.quick ? 3 : 10
opts.warmup ??= opts.quick ? 0.5 : 2
if (opts.duration <= 0 || opts.duration > 120) throw new Error('--duration must be in (0, 120]')
if (opts.pollers < 1 || opts.pollers > 16) throw new Error('--pollers must be 1 to 16')

const log = (msg) => console.log(`[admin-load ${new Date().toISOString().slice(11, 19)}] ${msg}`)

/** Writes `count` quarantined entries into a fresh sqlite immunity store at `file`, as crashless stores them. */
async function seedImmunity(file, count) {
  const { createBackend } = await import(path.join(REPO_DIR, 'dist', 'src', 'state', 'index.js'))
  const backend = await createBackend({ kind: 'sqlite', path: file })
  const now = Date.now()
  const dayMs = 24 * 3600_000
  for (let i = 0; i < count; i += 500) {
    const writes = []
    for (let j = i; j < Math.min(count, i + 500); j++) {
      const entry = { v: 1, failures: 3, lastFailure: 'crash:uncaughtException', firstFailureAt: now, quarantinedUntil: now + dayMs, cure: null, curedUntil: 0, incidentId: null }
      writes.push({ key: `immunity:GET /seeded/${String(j).padStart(5, '0')}/item #-`, value: Buffer.from(JSON.stringify(entry)), ttlMs: dayMs })
    }
    await backend.commit([], writes)
  }
  await backend.close()
}

/** GET `url` on `agent`, reading the body; resolves with the time it took, ms. */
function get(agent, url) {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`))
      res.resume()
      res.on('end', () => resolve(performance.now() - started))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`${url}: timed out`)))
    req.on('error', reject)
  })
}

/** Starts the pollers and the event stream; stop() ends them and returns what they did. */
function startPollers(adminUrl) {
  let stopped = false
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.pollers })
  const stats = { immunity: new LatencyHistogram(), metrics: new LatencyHistogram(), immunityBytes: 0, errors: 0, events: 0 }
  const loops = Array.from({ length: opts.pollers }, async () => {
    while (!stopped) {
      try {
        stats.immunity.record(await get(agent, `${adminUrl}/immunity?limit=100`))
        stats.metrics.record(await get(agent, `${adminUrl}/metrics`))
      } catch {
        stats.errors++
      }
    }
  })
  const stream = http.get(`${adminUrl}/events`, (res) => {
    res.setEncoding('utf8')
    res.on('data', (chunk) => (stats.events += chunk.split('\ndata: ').length - (chunk.startsWith('data: ') ? 0 : 1)))
    res.on('error', () => {})
  })
  stream.on('error', () => {})
  return {
    async stop() {
      stopped = true
      await Promise.all(loops)
      stream.destroy()
      agent.destroy()
      const summary = (h) => ({ count: h.count, p50: round(h.percentile(50), 2), p99: round(h.percentile(99), 2) })
      return { immunity: summary(stats.immunity), metrics: summary(stats.metrics), events: stats.events, errors: stats.errors }
    },
  }
}

async function main() {
  fs.mkdirSync(SCRATCH_DIR, { recursive: true })
  const immunityFile = path.join(fs.mkdtempSync(path.join(SCRATCH_DIR, 'admin-load-')), 'immunity.db')
  await seedImmunity(immunityFile, opts.entries)
  log(`seeded ${opts.entries} immunity entries`)
  const adminPort = await freePort()
  const peer = await startPeer('crashless', {
    app: path.join(APPS_DIR, 'overhead-app.js'),
    readyPath: '/trivial',
    tag: 'admin-load',
    instances: 2,
    waitStandby: true,
    crashlessConfig: { admin: { port: adminPort }, immunity: { store: 'sqlite', path: immunityFile } },
  })
  const adminUrl = `http://127.0.0.1:${adminPort}`
  const listed = JSON.parse(await new Promise((resolve, reject) => http.get(`${adminUrl}/health`, (res) => { let t = ''; res.on('data', (c) => (t += c)); res.on('end', () => resolve(t)) }).on('error', reject)))
  if (listed.quarantined < opts.entries) throw new Error(`the runtime loaded ${listed.quarantined} quarantined entries, not ${opts.entries}`)
  const url = `${peer.origin}/trivial`
  const probe = await fetch(url)
  if (probe.status !== 200) throw new Error(`GET /trivial answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`)
  await probe.text()
  const load = () => runLoad({ url, connections: opts.connections, durationSec: opts.duration, warmupSec: opts.warmup })
  const phases = []
  try {
    log('public route alone')
    phases.push({ phase: 'alone', ...(await load()) })
    log(`public route with ${opts.pollers} pollers and an event stream`)
    const pollers = startPollers(adminUrl)
    const busy = await load()
    phases.push({ phase: 'pollers', ...busy, admin: await pollers.stop() })
    log('public route alone again')
    phases.push({ phase: 'alone-again', ...(await load()) })
  } finally {
    await peer.stop()
    fs.rmSync(path.dirname(immunityFile), { recursive: true, force: true })
  }
  const rows = phases.map((p) => [p.phase, round(p.reqPerSec, 0), round(p.p50, 2), round(p.p99, 2), p.non2xx + p.errors, p.admin ? `${p.admin.immunity.count} immunity (p50 ${p.admin.immunity.p50} ms), ${p.admin.metrics.count} metrics (p50 ${p.admin.metrics.p50} ms), ${p.admin.events} events` : ''])
  console.log(formatTable(['phase', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'admin served meanwhile'], rows))
  const alone = (phases[0].p50 + phases[2].p50) / 2
  const p50DeltaMs = round(phases[1].p50 - alone, 3)
  log(`public p50 with pollers minus alone (mean of both alone runs): ${p50DeltaMs} ms`)
  const file = writeResults(
    'admin-load',
    {
      date: new Date().toISOString(),
      machine: machineInfo(),
      options: opts,
      phases: phases.map((p) => ({ phase: p.phase, reqPerSec: round(p.reqPerSec, 1), p50: round(p.p50, 3), p90: round(p.p90, 3), p99: round(p.p99, 3), max: round(p.max, 3), failed: p.non2xx + p.errors + p.timeouts, ...(p.admin ? { admin: p.admin } : {}) })),
      p50DeltaMs,
    },
    { scratch: opts.quick },
  )
  log(`wrote ${file}`)
}

await runGuarded(main, { budgetMs: (opts.duration + opts.warmup) * 3 * 1000 + 120_000 })

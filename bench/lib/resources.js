// Threads and resident memory of a peer's processes during a run, read from /proc (Linux only;
// elsewhere every figure is null). `pids()` gives the peer's processes at the time of each sample
// (PM2 workers come and go as they are restarted): crashless is one process (its instances are
// worker threads), PM2 cluster mode the app's worker processes. Per sample, `Threads` and `VmRSS`
// of /proc/<pid>/status are summed over those processes (a process that is gone by then counts
// for nothing).
//
// One sample before the load (idle), then one every `intervalMs` (~250 ms) until stop(), which
// takes the last one (end). At most `maxSamples` are taken; the timer is unref'd and only reads
// a few small files, so it costs the bench client next to nothing.
import fs from 'node:fs'
import { round } from './stats.js'

/** { threads, rssKb } of one process, or undefined when it is gone or /proc is unavailable. */
export function procStatus(pid) {
  let text
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const threads = /^Threads:\s+(\d+)/m.exec(text)
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text)
  // A zombie has no VmRSS line: it holds no memory any more.
  return threads ? { threads: Number(threads[1]), rssKb: rss ? Number(rss[1]) : 0 } : undefined
}

/** Child pids of `pid` forked by its main thread (/proc/<pid>/task/<pid>/children), [] if none. */
export function childPids(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/**
 * The PM2 app a process belongs to: `name` of the `pm2_env` JSON that PM2 puts in the environment
 * of each worker it starts (/proc/<pid>/environ); undefined for any other process.
 */
export function pm2AppName(pid) {
  try {
    const entry = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((e) => e.startsWith('pm2_env='))
    return entry ? JSON.parse(entry.slice('pm2_env='.length))?.name : undefined
  } catch {
    return undefined
  }
}

/** One sample: threads, RSS (MB) and process count summed over `pids`; null figures without /proc. */
export function sampleProcesses(pids) {
  let threads = 0
  let rssKb = 0
  let processes = 0
  for (const pid of pids) {
    const s = procStatus(pid)
    if (!s) continue
    threads += s.threads
    rssKb += s.rssKb
    processes++
  }
  if (processes === 0 && !fs.existsSync('/proc/self/status')) return { threads: null, rssMb: null, processes: null }
  return { threads, rssMb: round(rssKb / 1024, 1), processes }
}

/**
 * Starts sampling: takes the idle sample now (call it before the load starts), then one every
 * intervalMs. `pids` is a synchronous function. stop() takes the end sample and returns
 * { idle, peak: { threads, rssMb, processes }, end, samples, intervalMs, series: [[ms, threads, rssMb, processes]] }
 * (peak: the largest value of each figure over all samples, not one sample's; series: ms since
 * the idle sample). stop() again returns the same summary (so a `finally` can call it too).
 */
export function sampleResources(pids, { intervalMs = 250, maxSamples = 4000 } = {}) {
  const t0 = performance.now()
  const series = []
  const take = () => {
    let s
    try {
      s = sampleProcesses(pids())
    } catch {
      s = { threads: null, rssMb: null, processes: null }
    }
    series.push([round(performance.now() - t0, 0), s.threads, s.rssMb, s.processes])
    return s
  }
  const idle = take()
  const timer = setInterval(() => series.length < maxSamples && take(), intervalMs).unref()
  let summary
  return {
    stop() {
      if (summary) return summary
      clearInterval(timer)
      const end = take()
      const max = (i) => series.reduce((m, s) => (s[i] !== null && (m === null || s[i] > m) ? s[i] : m), null)
      summary = { idle, peak: { threads: max(1), rssMb: max(2), processes: max(3) }, end, samples: series.length, intervalMs, series }
      return summary
    },
  }
}

/** `90/131/101`: idle/peak/end of one figure of a sampleResources() summary, '-' when unknown. */
export function resourceCell(res, figure) {
  if (!res || res.idle?.[figure] === null || res.idle?.[figure] === undefined) return '-'
  const f = (x) => (x === null || x === undefined ? '?' : Math.round(x))
  return `${f(res.idle[figure])}/${f(res.peak[figure])}/${f(res.end[figure])}`
}

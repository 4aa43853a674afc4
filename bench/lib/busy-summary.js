// Per-run numbers of busy.js: what the load got in the measured window (the requests that completed
// after the warm-up), and what crashless's log says it did to its instances meanwhile.
import { isTimeout } from './busy-load.js'
import { countOutcomes } from './gaps.js'
import { readLogEvents } from './poison-attribution.js'
import { percentileSorted, round } from './stats.js'

/**
 * From a busyLoad() result: { ok, reqPerSec (2xx per second of the window), p50, p99, max (ms, of the
 * 2xx answers in the window, whole latency: queueing during the warm-up included), non2xx,
 * non2xxByStatus, errors, errorsByCode, timeouts, pending, oldestPendingMs, sent, warmupOk, windowMs }.
 */
export function loadStats(load, { warmupMs }) {
  const s = load.samples
  const windowMs = Math.max(0, Math.min(load.elapsedMs, load.runMs) - warmupMs)
  const latencies = []
  const non2xx = []
  const errors = []
  let timeouts = 0
  let warmupOk = 0
  let failure = 0
  for (let i = 0; i < s.size; i++) {
    const ok = s.okIndex[i] === 1
    const outcome = ok ? undefined : s.failures[failure++]
    if (s.ends[i] < warmupMs) {
      if (ok) warmupOk++
      continue
    }
    if (ok) latencies.push(s.ends[i] - s.starts[i])
    else if (typeof outcome === 'number') non2xx.push(outcome)
    else if (isTimeout(outcome)) timeouts++
    else errors.push(outcome)
  }
  latencies.sort((a, b) => a - b)
  const oldestStart = load.pendingStarts.reduce((m, t) => Math.min(m, t), Infinity)
  return {
    ok: latencies.length,
    reqPerSec: round(windowMs > 0 ? latencies.length / (windowMs / 1000) : 0, 1),
    p50: round(percentileSorted(latencies, 50), 1),
    p99: round(percentileSorted(latencies, 99), 1),
    max: round(latencies.length ? latencies[latencies.length - 1] : NaN, 1),
    non2xx: non2xx.length,
    non2xxByStatus: countOutcomes(non2xx),
    errors: errors.length,
    errorsByCode: countOutcomes(errors),
    timeouts,
    pending: load.pendingStarts.length,
    oldestPendingMs: round(load.pendingStarts.length ? load.elapsedMs - oldestStart : 0, 0),
    sent: load.sent,
    warmupOk,
    windowMs: round(windowMs, 0),
  }
}

/**
 * crashless's verdicts on its instances, from its pino log: { instancesLost, lostReasons
 * ({ reason: n } of the `instance-lost` lines), quarantined (`quarantined` lines), quarantinedSignatures,
 * deadlines (`deadline` lines) }.
 */
export function crashlessVerdicts(logFile) {
  const lostReasons = {}
  const signatures = new Set()
  let instancesLost = 0
  let quarantined = 0
  let deadlines = 0
  for (const e of readLogEvents(logFile)) {
    if (e.event === 'instance-lost') {
      instancesLost++
      const reason = e.reason ?? 'unknown'
      lostReasons[reason] = (lostReasons[reason] ?? 0) + 1
    } else if (e.event === 'quarantined') {
      quarantined++
      if (e.signature) signatures.add(e.signature)
    } else if (e.event === 'deadline') {
      deadlines++
    }
  }
  return { instancesLost, lostReasons, quarantined, quarantinedSignatures: [...signatures], deadlines }
}

// One campaign run's numbers, from the client emulator's records (API.md "Client emulator"):
// actions [{ t, ms, state, ok, reason? }] and requests [{ t, ms, ok, status, path }], t = ms since
// the emulation's start when the action/request ended. faultAtMs: when each shot was armed (for
// `none`, the nominal times, so its outage and recovery numbers show the noise floor).
//
// - actionSuccessRatio: successful / all user actions of the run (failed = any request failed,
//   timed out or answered a wrong body).
// - longestOutageMs: the longest window, from the first fault's arming to the end of the run, in
//   which no user action completed successfully (edges count: an outage that lasts to the end is
//   a window too).
// - recoveryMs, per shot: the baseline is the median of the per-second counts of successful actions
//   in the whole seconds before the first arming. From the arming, 1-s windows slide in 100-ms
//   steps. A dip is a window, ending by the next arming (or the run's end), below 90% of the
//   baseline and also below baseline - 3 * sqrt(baseline): a 1-s count is Poisson-like, so at ~100
//   actions/s a window 10% short happens by chance about once per second of windows, and the
//   `none` runs would show spurious recoveries. No dip: the shot cost nothing, 0. Otherwise
//   recoveryMs is the time from the arming to the start of the first later window back at >= 90%
//   of the baseline (capped at the run's end when there is none). The run's recoveryMs is the
//   largest over its shots.
// - actionsPerSec: successful actions per second of the run; p50Ms/p99Ms: latency of the successful
//   actions (a whole action, several requests); requestP99Ms: of the successful requests.
import { longestSilence } from '../gaps.js'
import { median, percentileSorted, round } from '../stats.js'

const WINDOW_MS = 1000
const STEP_MS = 100
const RECOVERED = 0.9

export function runMetrics({ actions, requests, durationMs, faultAtMs }) {
  const inRun = actions.filter((a) => a.t <= durationMs)
  const okEnds = inRun.filter((a) => a.ok).map((a) => a.t).sort((x, y) => x - y)
  const ok = actions.filter((a) => a.ok)
  const failed = actions.filter((a) => !a.ok)
  const lat = ok.map((a) => a.ms).sort((x, y) => x - y)
  const reqLat = requests.filter((r) => r.ok).map((r) => r.ms).sort((x, y) => x - y)
  const first = faultAtMs.length ? faultAtMs[0] : 0
  const outage = longestSilence(okEnds.map((t) => t - first), durationMs - first)
  const perSecond = bins(okEnds, 1000, durationMs)
  const baseline = median(perSecond.slice(0, Math.floor(first / 1000)))
  const recoveries = faultAtMs.map((at, i) => recovery(okEnds, at, faultAtMs[i + 1] ?? durationMs, durationMs, baseline))
  return {
    actions: actions.length,
    okActions: ok.length,
    failedActions: failed.length,
    actionSuccessRatio: actions.length ? ok.length / actions.length : 0,
    requests: requests.length,
    failedRequests: requests.filter((r) => !r.ok).length,
    longestOutageMs: round(outage.ms, 0),
    longestOutage: { fromMs: round(outage.from + first, 0), toMs: round(outage.to + first, 0) },
    recoveryMs: recoveries.length ? Math.max(...recoveries) : 0,
    recoveriesMs: recoveries,
    baselinePerSec: baseline,
    actionsPerSec: round(okEnds.length / (durationMs / 1000), 1),
    p50Ms: round(percentileSorted(lat, 50), 1),
    p99Ms: round(percentileSorted(lat, 99), 1),
    requestP50Ms: round(percentileSorted(reqLat, 50), 1),
    requestP99Ms: round(percentileSorted(reqLat, 99), 1),
    failureReasons: reasons(failed),
    failureSamples: samples(failed),
    failedByState: countBy(failed, (a) => a.state),
    failedRequestsByStatus: countBy(requests.filter((r) => !r.ok), (r) => String(r.status ?? 'error')),
    timeline: { binMs: 1000, ok: perSecond, failed: bins(inRun.filter((a) => !a.ok).map((a) => a.t), 1000, durationMs) },
    fineTimeline: { binMs: 250, ok: bins(okEnds, 250, durationMs) },
  }
}

/** Counts of the times (ms) in each bin of [0, durationMs). */
function bins(times, binMs, durationMs) {
  const out = new Array(Math.ceil(durationMs / binMs)).fill(0)
  for (const t of times) {
    const i = Math.floor(t / binMs)
    if (i >= 0 && i < out.length) out[i]++
  }
  return out
}

/** Successful actions ending in [from, from + WINDOW_MS), by binary search over sorted end times. */
function windowCounter(okEnds) {
  return (from) => {
    return lowerBound(okEnds, from + WINDOW_MS) - lowerBound(okEnds, from)
  }
}

function lowerBound(sorted, x) {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

function recovery(okEnds, at, nextAt, durationMs, baseline) {
  if (!Number.isFinite(baseline) || baseline <= 0) return round(durationMs - at, 0)
  const count = windowCounter(okEnds)
  const good = (from) => count(from) >= RECOVERED * baseline
  const dipBelow = Math.min(RECOVERED * baseline, baseline - 3 * Math.sqrt(baseline))
  const lastStart = durationMs - WINDOW_MS
  let dip = -1
  // Dips are looked for in windows that end by the next arming: later ones show the next shot.
  for (let from = at; from + WINDOW_MS <= Math.max(nextAt, at + WINDOW_MS) && from <= lastStart; from += STEP_MS) {
    if (count(from) < dipBelow) {
      dip = from
      break
    }
  }
  if (dip < 0) return 0
  for (let from = dip + STEP_MS; from <= lastStart; from += STEP_MS) if (good(from)) return round(from - at, 0)
  return round(durationMs - at, 0)
}

/** Failure reasons (categorical in the client: request paths already folded), most frequent first. */
function reasons(failed) {
  const counts = countBy(failed, (a) => String(a.reason ?? 'unknown').slice(0, 80))
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]))
}

/** The first few distinct `reason: detail` texts, to see what a failure looked like. */
function samples(failed, max = 5) {
  const seen = new Set()
  for (const a of failed) {
    if (seen.size >= max) break
    seen.add(`${a.reason ?? 'unknown'}${a.detail ? `: ${String(a.detail).slice(0, 200)}` : ''}`)
  }
  return [...seen]
}

function countBy(xs, key) {
  const out = {}
  for (const x of xs) {
    const k = key(x)
    out[k] = (out[k] ?? 0) + 1
  }
  return out
}

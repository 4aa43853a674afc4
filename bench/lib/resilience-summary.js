// resilience.js per-run numbers: what the benign load saw around one event (a kill -9 of a serving
// process, or a reload), from the client's records alone (which pid answered each request), plus
// what the peer says about it (crashless's log; PM2's process list).
import { countOutcomes, longestSilence, windowsServed } from './gaps.js'
import { stallOverlap, longestStall } from './client-stalls.js'
import { percentileSorted, round } from './stats.js'

/**
 * requests: PidSampleLog.byEnd(); event: { atMs (since t0), killedPid?, pidsBefore (Set: pids that
 * were serving before the event), newPid? (the pid that must take over, when the peer names it:
 * crashless's promoted or reloaded runtime), doneAtMs? }; costWindowMs: how long after the event
 * the lost capacity is counted.
 */
export function summarizeLoad(requests, { durationMs, event, costWindowMs, stalls }) {
  const ok = requests.filter((r) => r.ok)
  const failed = requests.filter((r) => !r.ok)
  const okEnds = Float64Array.from(ok, (r) => r.end) // already sorted: requests come sorted by end
  const silence = longestSilence(okEnds, durationMs)
  const at = event.atMs
  const after = ok.filter((r) => r.end > at)
  // A success that ends just after the kill may have been served by the killed process before it
  // died: only another process's answers show that the service goes on.
  const firstOther = after.find((r) => r.pid !== event.killedPid)
  const isNew = event.newPid ? (r) => r.pid === event.newPid : (r) => !event.pidsBefore.has(r.pid)
  const firstNew = after.find(isNew)
  const latencies = Float64Array.from(ok, (r) => r.end - r.start).sort()
  const windowEnd = Math.min(durationMs, at + costWindowMs)
  const inWindow = after.filter((r) => r.end <= windowEnd)
  return {
    requests: requests.length,
    ok: ok.length,
    failed: failed.length,
    successRatio: requests.length ? ok.length / requests.length : 0,
    failures: countOutcomes(failed.map((r) => r.outcome)),
    refused: failed.filter((r) => r.outcome === 'ECONNREFUSED').length,
    failedAfterEvent: failed.filter((r) => r.end >= at).length,
    windowsServed: windowsServed(okEnds, durationMs),
    longestSilence: { ms: round(silence.ms, 1), fromMs: round(silence.from - at, 1), toMs: round(silence.to - at, 1), clientStalledMs: round(stallOverlap(stalls, silence.from, silence.to), 1) },
    // ms from the event to the first success from a process other than the killed one (any process
    // for a reload), and to the first success from the process that took over.
    firstOtherMs: firstOther ? round(firstOther.end - at, 1) : null,
    firstNewMs: firstNew ? round(firstNew.end - at, 1) : null,
    newPid: event.newPid ?? firstNew?.pid ?? null,
    costMs: deathCost(okEnds, at, costWindowMs, durationMs),
    p99Ms: round(percentileSorted(latencies, 99), 2),
    // Requests that waited through the event (in the backlog, or behind a dying process) show here.
    maxLatencyAfterMs: inWindow.length ? round(inWindow.reduce((m, r) => Math.max(m, r.end - r.start), 0), 1) : null,
    pidsServed: countOutcomes(ok.map((r) => r.pid)),
    client: { longestStallMs: round(longestStall(stalls), 1), stalls: stalls.length },
  }
}

/**
 * The death's cost in ms of full service: successes missing in the `windowMs` after the event,
 * compared with the rate of the same length of time before it, divided by that rate. 0 when the
 * service went on at its former pace; ~ the outage length when it stopped for a while; more when
 * it limped (one PM2 worker of two). Both windows are cut to the run; null if there is no before.
 */
export function deathCost(okEndsSorted, atMs, windowMs, durationMs) {
  const before = Math.min(windowMs, atMs)
  const after = Math.min(windowMs, durationMs - atMs)
  if (before <= 0 || after <= 0) return null
  let nBefore = 0
  let nAfter = 0
  for (const t of okEndsSorted) {
    if (t >= atMs - before && t < atMs) nBefore++
    else if (t >= atMs && t < atMs + after) nAfter++
  }
  if (nBefore === 0) return null
  const perMs = nBefore / before
  return round(Math.max(0, after - nAfter / perMs), 0)
}

/**
 * What crashless's log says about the event: the death and promotion (kill), or the reload; times
 * are ms after the event (the log's ms-precision clock against the bench's Date.now() at the event).
 */
export function crashlessEventInfo(events, { caseName, eventWallMs, killedPid }) {
  const rel = (e) => (e ? e.t - eventWallMs : null)
  const later = events.filter((e) => e.t >= eventWallMs - 5)
  const counts = countOutcomes(events.map((e) => e.event))
  if (caseName === 'kill') {
    const died = later.find((e) => e.event === 'runtime-died' && e.pid === killedPid)
    const promoted = later.find((e) => e.event === 'runtime-promoted')
    const standby = promoted ? later.find((e) => e.event === 'standby-ready' && e.t >= promoted.t) : undefined
    return {
      diedAtMs: rel(died),
      cause: died?.cause ?? null,
      promotedPid: promoted?.pid ?? null,
      promotedAtMs: rel(promoted),
      promotionMs: promoted?.ms ?? null,
      newStandbyAtMs: rel(standby),
      gaveUp: later.some((e) => e.event === 'keeper-gave-up'),
      events: counts,
    }
  }
  const reloaded = later.find((e) => e.event === 'reloaded')
  const failed = later.find((e) => e.event === 'reload-failed' || e.event === 'reload-ignored')
  return {
    reloadedPid: reloaded?.pid ?? null,
    previousPid: reloaded?.previous ?? null,
    reloadedAtMs: rel(reloaded),
    failure: failed ? `${failed.event}: ${failed.msg}` : null,
    events: counts,
  }
}

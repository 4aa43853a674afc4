// Turns one poison.js run (benign samples, poison shots, the peer's log or PM2 counters) into the
// result record that is printed and stored: benign success / req/s / p50 / p99, poison outcomes,
// instance crashes per poison signature, and (crashless) the time from the first poison sent to
// its `quarantined` log line.
import { countOutcomes } from './gaps.js'
import { attributeCrashes, perSignature, readLogEvents } from './poison-attribution.js'
import { median, percentileSorted, round } from './stats.js'

/** Benign traffic of one run: { total, ok, successRatio, reqPerSec, p50, p99, max, failures }. */
export function benignStats(samples, durationMs) {
  const lat = samples.okLatenciesSorted()
  return {
    total: samples.size,
    ok: samples.okCount,
    successRatio: samples.size ? samples.okCount / samples.size : 0,
    reqPerSec: round(samples.okCount / (durationMs / 1000), 0),
    p50: round(percentileSorted(lat, 50), 2),
    p99: round(percentileSorted(lat, 99), 2),
    max: round(lat.length ? lat[lat.length - 1] : NaN, 2),
    failures: countOutcomes(samples.failures),
  }
}

/** Poison shots: { sent, outcomes, refusedP50Ms } (refused = answered 500 QUARANTINED). */
export function poisonStats(shots) {
  const refused = shots.filter((s) => s.code === 'QUARANTINED').map((s) => s.ms)
  return { sent: shots.length, outcomes: countOutcomes(shots.map((s) => s.outcome ?? 'unsent')), refusedP50Ms: refused.length ? round(median(refused), 2) : null }
}

/**
 * What the peer says about the crashes. crashless: attribution of its log to poison signatures.
 * pm2: restarts (PM2 can't tell which request killed a worker, and has no verdict).
 * `poisonPath` (scenario A): the one repeated signature, for the time to verdict.
 */
export function crashStats(peerKind, { logFile, info, shots, poisonPath }) {
  if (peerKind !== 'crashless') {
    return { instances: info?.restarts ?? null, restarts: info?.restarts ?? null, statuses: info?.statuses, worstPerSignature: null, verdictMs: null }
  }
  const events = readLogEvents(logFile)
  const attribution = attributeCrashes(events, shots)
  const sig = perSignature(attribution)
  const firstSent = shots.reduce((m, s) => (s.sentAt !== undefined && s.sentAt < m ? s.sentAt : m), Infinity)
  const verdict = poisonPath ? attribution.quarantined.find((q) => q.path === poisonPath) : undefined
  const firstRefused = shots.filter((s) => s.code === 'QUARANTINED').reduce((m, s) => Math.min(m, s.sentAt), Infinity)
  const own = poisonPath ? attribution.bySignature.get(poisonPath) : undefined
  return {
    // Every instance lost or retired in the run, whatever the cause (benign traffic never crashes).
    instances: attribution.instances.size,
    crashEvents: attribution.crashEvents,
    // Scenario A: instances charged to the repeated poison signature itself.
    signatureInstances: poisonPath ? (own?.instances.size ?? 0) : undefined,
    worstPerSignature: sig.worst.instances,
    worstSignature: sig.worst.path,
    perSignatureHistogram: sig.histogram,
    signaturesCrashing: sig.signatures,
    unattributed: { events: attribution.unattributed.events, instances: attribution.unattributed.instances.size },
    blamedBenign: sig.blamedBenign,
    quarantinedSignatures: attribution.quarantined.length,
    quarantinedBenign: attribution.quarantined.filter((q) => !q.path?.startsWith('/poison/')).map((q) => q.path),
    verdictMs: verdict && Number.isFinite(firstSent) ? round(verdict.t - firstSent, 0) : null,
    verdictFailures: verdict?.failures ?? null,
    firstRefusedMs: Number.isFinite(firstRefused) && Number.isFinite(firstSent) ? round(firstRefused - firstSent, 0) : null,
    reasons: attribution.reasons,
    logEvents: attribution.counts,
  }
}

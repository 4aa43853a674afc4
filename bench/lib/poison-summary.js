// Turns one poison.js run (benign samples, poison shots, the peer's log or PM2 counters) into the
// result record that is printed and stored: benign success / req/s / p50 / p99, poison outcomes,
// instance crashes per poison signature (serving and sacrificial instances apart, against
// crashless's own `instancesSpent`), (crashless) the time from the first poison sent to its
// verdict, and, in the flood, when the route was bulkheaded and what the poison hit after that.
import { countOutcomes, windowsServed } from './gaps.js'
import { attributeCrashes, countRoles, instancesBySignature, perSignature, readLogEvents } from './poison-attribution.js'
import { median, percentileSorted, round } from './stats.js'

/**
 * Benign traffic of one run: { total, ok, successRatio, reqPerSec, p50, p99, max, windowsServed, failures }.
 * windowsServed: the share of the 100 ms windows of the measured period in which at least one
 * benign request completed successfully ({ windows, served, ratio, windowMs }).
 */
export function benignStats(samples, durationMs, windowMs = 100) {
  const lat = samples.okLatenciesSorted()
  const windows = windowsServed(samples.okEndsSorted(), durationMs, windowMs)
  return {
    total: samples.size,
    ok: samples.okCount,
    successRatio: samples.size ? samples.okCount / samples.size : 0,
    reqPerSec: round(samples.okCount / (durationMs / 1000), 0),
    p50: round(percentileSorted(lat, 50), 2),
    p99: round(percentileSorted(lat, 99), 2),
    max: round(lat.length ? lat[lat.length - 1] : NaN, 2),
    windowsServed: { ...windows, ratio: round(windows.ratio, 4) },
    failures: countOutcomes(samples.failures),
  }
}

/** Poison shots: { sent, outcomes, refusedP50Ms } (refused = answered 500 QUARANTINED). */
export function poisonStats(shots) {
  const refused = shots.filter((s) => s.code === 'QUARANTINED').map((s) => s.ms)
  return { sent: shots.length, outcomes: countOutcomes(shots.map((s) => s.outcome ?? 'unsent')), refusedP50Ms: refused.length ? round(median(refused), 2) : null }
}

/**
 * What the peer says about the crashes. crashless: attribution of its log to poison signatures,
 * serving and sacrificial instances apart. pm2: restarts (PM2 can't tell which request killed a
 * worker, and has no verdict). `poisonPath` (scenario A): the one repeated signature; without it
 * (scenario B, the flood) every poison has its own signature.
 */
export function crashStats(peerKind, { logFile, info, shots, poisonPath }) {
  if (peerKind !== 'crashless') {
    return { instances: info?.restarts ?? null, restarts: info?.restarts ?? null, statuses: info?.statuses, worstPerSignature: null, verdictMs: null }
  }
  const events = readLogEvents(logFile)
  const a = attributeCrashes(events, shots)
  const bySig = instancesBySignature(a.failures)
  const sig = perSignature(bySig)
  const firstSent = shots.reduce((m, s) => (s.sentAt !== undefined && s.sentAt < m ? s.sentAt : m), Infinity)
  const sinceFirst = (t) => (Number.isFinite(firstSent) && Number.isFinite(t) ? round(t - firstSent, 0) : null)
  const unattributed = bySig.get(undefined) ?? new Map()
  const common = {
    // Every instance lost or retired in the run, whatever the cause (benign traffic never crashes).
    instances: a.instanceRoles.size,
    byRole: countRoles(a.instanceRoles.values()),
    crashEvents: a.failures.length,
    unattributed: { events: a.failures.filter((f) => f.path === undefined).length, instances: unattributed.size },
    viaIsolation: a.failures.filter((f) => f.via === 'isolation').length,
    culprits: a.culprits,
    ladderSteps: a.ladderSteps,
    blamedBenign: sig.blamedBenign,
    quarantinedSignatures: a.quarantined.length,
    quarantinedBenign: a.quarantined.filter((q) => !q.path?.startsWith('/poison/')).map((q) => q.path),
    curedSignatures: a.cured.length,
    reasons: a.reasons,
    logEvents: a.counts,
  }
  return poisonPath ? { ...common, ...repeatedStats(a, bySig, poisonPath, shots, sinceFirst) } : { ...common, ...floodStats(a, bySig, sig, shots, sinceFirst) }
}

/**
 * Scenario A. Benign requests never crash this app, so an unattributed loss is this poison's too
 * (e.g. a copy whose client gave up before it was blamed): it is charged to the signature.
 * `instancesSpent` is crashless's own count, from its verdict line, to cross-check with.
 */
function repeatedStats(a, bySig, poisonPath, shots, sinceFirst) {
  const mine = new Map([...(bySig.get(undefined) ?? []), ...(bySig.get(poisonPath) ?? [])])
  const q = a.quarantined.find((x) => x.path === poisonPath)
  const cure = a.cured.find((x) => x.path === poisonPath)
  const firstRefused = shots.filter((s) => s.code === 'QUARANTINED').reduce((m, s) => Math.min(m, s.sentAt), Infinity)
  return {
    signature: { instances: mine.size, ...countRoles(mine.values()), unattributed: bySig.get(undefined)?.size ?? 0 },
    // The verdict: quarantined (no tweak cured it), cured by a tweak, or none within the run.
    verdict: q ? 'quarantined' : cure ? `cured:${cure.tweak}` : null,
    instancesSpent: q?.instancesSpent ?? cure?.instancesSpent ?? null,
    tried: q?.tried ?? null,
    verdictFailures: q?.failures ?? null,
    // First poison sent (client clock) -> the verdict line (log clock); the ladder's own is from
    // the failure that opened its trial.
    verdictMs: q ? sinceFirst(q.t) : null,
    ladderVerdictMs: q?.verdictMs ?? null,
    cureMs: cure ? sinceFirst(cure.t) : null,
    firstRefusedMs: sinceFirst(firstRefused),
    worstPerSignature: mine.size,
  }
}

/**
 * Scenario B. Per poison signature: instances charged from the log, against the `instancesSpent`
 * of its verdict line. The route's bulkhead (many distinct signatures failing): when, after how
 * many poisons, and which role the poison failures after it hit (only sacrificial ones, once a
 * poison already on a serving instance has crashed it).
 */
function floodStats(a, bySig, sig, shots, sinceFirst) {
  const spentMismatch = a.quarantined.filter((q) => q.path?.startsWith('/poison/') && (bySig.get(q.path)?.size ?? 0) !== q.instancesSpent).length
  const spent = a.quarantined.map((q) => q.instancesSpent).filter(Number.isFinite)
  const verdicts = a.quarantined.map((q) => q.verdictMs).filter(Number.isFinite)
  const b = a.bulkheads.find((x) => x.route?.includes('/poison/'))
  const split = (fs) => ({ events: countRoles(fs.map((f) => f.role)), instances: countRoles(new Map(fs.map((f) => [f.instance, f.role])).values()) })
  return {
    worstPerSignature: sig.worst.instances,
    worstSignature: sig.worst.path,
    worstSplit: { serving: sig.worst.serving, sacrificial: sig.worst.sacrificial },
    perSignatureHistogram: sig.histogram,
    signaturesCrashing: sig.signatures,
    maxInstancesSpent: spent.length ? Math.max(...spent) : null,
    spentMismatch,
    ladderVerdictP50Ms: verdicts.length ? round(median(verdicts), 0) : null,
    ladderVerdictMaxMs: verdicts.length ? Math.max(...verdicts) : null,
    bulkhead: b
      ? {
          route: b.route,
          atMs: sinceFirst(b.t),
          poisonsBefore: shots.filter((s) => s.sentAt !== undefined && s.sentAt < b.t).length,
          // By log order: the failure that tipped the route over is logged before the bulkhead.
          before: split(a.failures.filter((f) => f.i < b.i)),
          after: split(a.failures.filter((f) => f.i > b.i)),
        }
      : null,
  }
}

// Reads a crashless pino log after a poison run and charges every instance it lost or retired to
// the request (path with query, i.e. the poison signature of a bodyless GET) that caused it, with
// the instance's role at the time (`serving`, or `sacrificial`: the recovery ladder's re-runs,
// isolated suspects and bulkheaded routes run there; a taken warm spare keeps its `i<n>` id, so
// only the log's `role` field tells them apart):
// - `request-crashed` (a crash suppressed in its request; the instance is tainted and retired)
//   names the request's url itself;
// - `deadline` with an instance (the instance is tainted and replaced) names its url too;
// - `instance-lost` names its `culprit` request id (or null), which is mapped to a path through
//   the client's shots (crashless answers errors with `x-crashless-request-id`) and through the
//   log's own lines that carry both a request id and a url or signature. A loss nobody was blamed
//   for isolates its in-flight requests (`isolated: n`); when one of them fails again alone, a
//   `culprit` event names its signature, and the oldest such loss still open is charged to it.
// Anything left is counted as unattributed.
import fs from 'node:fs'

/** Parsed JSON log lines (objects with an `event`), in order; `t` is the epoch ms of `time`. */
export function readLogEvents(file) {
  let text = ''
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const events = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const e = JSON.parse(line)
      if (typeof e.event !== 'string') continue
      e.t = typeof e.time === 'number' ? e.time : Date.parse(e.time)
      events.push(e)
    } catch {
      // not a JSON log line
    }
  }
  return events
}

/** `/poison/throw?v=1` from crashless's signature `GET /poison/throw?v=1 #-`. */
export function signaturePath(signature) {
  if (typeof signature !== 'string') return undefined
  const space = signature.indexOf(' ')
  const hash = signature.lastIndexOf(' #')
  return space < 0 ? undefined : signature.slice(space + 1, hash > space ? hash : undefined)
}

/** request id -> path, from the client's shots first, then from any log line naming both. */
function requestPaths(events, shots) {
  const pathOf = new Map()
  for (const s of shots) if (s.requestId) pathOf.set(s.requestId, s.path)
  for (const e of events) {
    if (!e.requestId) continue
    const p = e.url ?? signaturePath(e.signature)
    if (p && !pathOf.has(e.requestId)) pathOf.set(e.requestId, p)
  }
  return pathOf
}

/** A log line that cost (or hit) an instance, as { t, instance, role, event, reason, path }; else null. */
function failureOf(e, pathOf, roleOf) {
  if (e.event === 'request-crashed') {
    return { t: e.t, instance: e.instance, role: e.role ?? 'unknown', event: e.event, reason: `suppressed:${e.kind}`, path: e.url ?? pathOf.get(e.requestId) }
  }
  if (e.event === 'instance-lost') {
    return { t: e.t, instance: e.instance, role: e.role ?? 'unknown', event: e.event, reason: e.reason, path: e.culprit ? pathOf.get(e.culprit) : undefined, isolated: e.isolated ?? 0, blamed: Boolean(e.culprit) }
  }
  // The deadline line has no role: take the instance's role from its other lines.
  if (e.event === 'deadline' && e.instance && /replaced/.test(e.action ?? '')) {
    return { t: e.t, instance: e.instance, role: roleOf.get(e.instance) ?? 'unknown', event: e.event, reason: 'deadline', path: e.url ?? pathOf.get(e.requestId) }
  }
  return null
}

/**
 * events: readLogEvents(); shots: client poison records ({ path, requestId }).
 * Returns { failures: [{ i, t, instance, role, event, reason, path, via }] (i: index of the log
 * line; path undefined when unattributed; via 'isolation' when charged through a `culprit`
 * event), instanceRoles: Map(id -> role at its first failure), quarantined: [{ path, failures,
 * instancesSpent, verdictMs, tried, lastFailure, t }], cured: [{ path, tweak, ms, instancesSpent,
 * t }], bulkheads: [{ route, t, i }], culprits, ladderSteps, counts: { [event]: n },
 * reasons: { [reason]: n } }.
 */
export function attributeCrashes(events, shots = []) {
  const pathOf = requestPaths(events, shots)
  const roleOf = new Map()
  for (const e of events) if (e.instance && e.role && !roleOf.has(e.instance)) roleOf.set(e.instance, e.role)
  const failures = []
  const openIsolations = []
  const out = { quarantined: [], cured: [], bulkheads: [], culprits: 0, ladderSteps: 0, counts: {}, reasons: {} }
  for (const [i, e] of events.entries()) {
    out.counts[e.event] = (out.counts[e.event] ?? 0) + 1
    if (e.event === 'quarantined') {
      out.quarantined.push({ path: signaturePath(e.signature), failures: e.failures, instancesSpent: e.instancesSpent, verdictMs: e.verdictMs, tried: e.tried, lastFailure: e.lastFailure, t: e.t })
    } else if (e.event === 'cured') {
      out.cured.push({ path: signaturePath(e.signature), tweak: e.tweak, ms: e.ms, instancesSpent: e.instancesSpent, t: e.t })
    } else if (e.event === 'bulkhead') {
      out.bulkheads.push({ route: e.route, t: e.t, i })
    } else if (e.event === 'ladder-step') {
      out.ladderSteps++
    } else if (e.event === 'culprit') {
      out.culprits++
      const loss = openIsolations.shift()
      if (loss) Object.assign(loss, { path: signaturePath(e.signature), via: 'isolation' })
    }
    const f = failureOf(e, pathOf, roleOf)
    if (!f) continue
    f.i = i
    failures.push(f)
    out.reasons[f.reason] = (out.reasons[f.reason] ?? 0) + 1
    if (f.event === 'instance-lost' && !f.blamed && f.isolated > 0) openIsolations.push(f)
  }
  const instanceRoles = new Map()
  for (const f of failures) if (!instanceRoles.has(f.instance)) instanceRoles.set(f.instance, f.role)
  return { failures, instanceRoles, ...out }
}

/** { serving, sacrificial, unknown? } counts of roles. */
export function countRoles(roles) {
  const n = { serving: 0, sacrificial: 0 }
  for (const role of roles) n[role] = (n[role] ?? 0) + 1
  return n
}

/** Map(path -> Map(instance -> role)) of the attributed failures; `undefined` holds the rest. */
export function instancesBySignature(failures) {
  const by = new Map()
  for (const f of failures) {
    const m = by.get(f.path) ?? by.set(f.path, new Map()).get(f.path)
    if (!m.has(f.instance)) m.set(f.instance, f.role)
  }
  return by
}

/**
 * Per-signature summary of the poison signatures: the worst one (most instances, with its
 * serving/sacrificial split), a histogram { instances: signatures }, and the signatures outside
 * `poisonPrefix` that were blamed (a benign request blamed for a crash is a misattribution).
 */
export function perSignature(bySignature, poisonPrefix = '/poison/') {
  let worst = { path: null, instances: 0, serving: 0, sacrificial: 0 }
  const histogram = {}
  const blamedBenign = {}
  let signatures = 0
  for (const [p, m] of bySignature) {
    if (p === undefined) continue
    if (!p.startsWith(poisonPrefix)) {
      blamedBenign[p] = m.size
      continue
    }
    signatures++
    histogram[m.size] = (histogram[m.size] ?? 0) + 1
    if (m.size > worst.instances) worst = { path: p, instances: m.size, ...countRoles(m.values()) }
  }
  return { worst, histogram, blamedBenign, signatures }
}

// Reads a crashless pino log after a poison run and attributes every instance it lost or retired
// to the request (path with query, i.e. the poison signature of a bodyless GET) that caused it:
// - `request-crashed` (a crash suppressed in its request; the instance is tainted and retired)
//   names the request's url itself;
// - `instance-lost` names its `culprit` request id (or null), which is mapped to a path through
//   the client's shots (crashless answers with `x-crashless-request-id`) and through the log's
//   own lines that carry both a request id and a url or signature.
// A loss without a culprit, or whose culprit can't be mapped, is counted as unattributed.
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

/**
 * events: readLogEvents(); shots: client poison records ({ path, requestId }).
 * Returns { crashEvents, instances, bySignature: Map(path -> { events, instances: Set }),
 * unattributed: { events, instances: Set }, quarantined: [{ path, failures, lastFailure, t }],
 * counts: { [event]: n }, reasons: { [reason or crash kind]: n } }.
 */
export function attributeCrashes(events, shots = []) {
  const pathOf = new Map()
  for (const s of shots) if (s.requestId) pathOf.set(s.requestId, s.path)
  for (const e of events) {
    if (!e.requestId) continue
    const p = e.url ?? signaturePath(e.signature)
    if (p && !pathOf.has(e.requestId)) pathOf.set(e.requestId, p)
  }
  const bySignature = new Map()
  const unattributed = { events: 0, instances: new Set() }
  const instances = new Set()
  const counts = {}
  const reasons = {}
  const quarantined = []
  let crashEvents = 0
  for (const e of events) {
    counts[e.event] = (counts[e.event] ?? 0) + 1
    if (e.event === 'quarantined') quarantined.push({ path: signaturePath(e.signature), failures: e.failures, lastFailure: e.lastFailure, t: e.t })
    if (e.event !== 'request-crashed' && e.event !== 'instance-lost') continue
    crashEvents++
    instances.add(e.instance)
    const reason = e.event === 'request-crashed' ? `suppressed:${e.kind}` : e.reason
    reasons[reason] = (reasons[reason] ?? 0) + 1
    const p = e.event === 'request-crashed' ? (e.url ?? pathOf.get(e.requestId)) : e.culprit ? pathOf.get(e.culprit) : undefined
    const bucket = p === undefined ? unattributed : bySignature.get(p) ?? bySignature.set(p, { events: 0, instances: new Set() }).get(p)
    bucket.events++
    bucket.instances.add(e.instance)
  }
  return { crashEvents, instances, bySignature, unattributed, quarantined, counts, reasons }
}

/**
 * Per-signature summary for the report: the worst signature (most instances), a histogram
 * { instancesCrashed: signatures }, and the signatures outside `poisonPrefix` that were blamed
 * (a benign request blamed for a crash is a misattribution).
 */
export function perSignature(attribution, poisonPrefix = '/poison/') {
  let worst = { path: null, instances: 0, events: 0 }
  const histogram = {}
  const blamedBenign = {}
  for (const [p, b] of attribution.bySignature) {
    if (!p.startsWith(poisonPrefix)) {
      blamedBenign[p] = b.instances.size
      continue
    }
    histogram[b.instances.size] = (histogram[b.instances.size] ?? 0) + 1
    if (b.instances.size > worst.instances) worst = { path: p, instances: b.instances.size, events: b.events }
  }
  return { worst, histogram, blamedBenign, signatures: [...attribution.bySignature.keys()].filter((p) => p.startsWith(poisonPrefix)).length }
}

// Availability of the benign traffic: the longest window [a, b] inside [0, durationMs] during which
// no benign request completed successfully (edges count: a silent start or end is a window too).
// okEndsSorted: end times (ms since the start of the window) of the successful requests, sorted.
export function longestSilence(okEndsSorted, durationMs) {
  const ends = okEndsSorted.filter((t) => t >= 0 && t <= durationMs)
  let best = { ms: durationMs, from: 0, to: durationMs }
  if (ends.length === 0) return best
  best = { ms: ends[0], from: 0, to: ends[0] }
  for (let i = 1; i < ends.length; i++) {
    const gap = ends[i] - ends[i - 1]
    if (gap > best.ms) best = { ms: gap, from: ends[i - 1], to: ends[i] }
  }
  const tail = durationMs - ends[ends.length - 1]
  if (tail > best.ms) best = { ms: tail, from: ends[ends.length - 1], to: durationMs }
  return best
}

/** { outcome: count } of a list of outcomes (status codes or error codes). */
export function countOutcomes(outcomes) {
  const counts = {}
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1
  return counts
}

/**
 * Share of the `windowMs` windows of [0, durationMs] (the last one may be shorter) in which at
 * least one benign request completed successfully: { windows, served, ratio, windowMs }.
 * okEndsSorted as for longestSilence. Where the longest silence gives the worst outage, this says
 * how much of the run was served at all (many short outages add up here, not there).
 */
export function windowsServed(okEndsSorted, durationMs, windowMs = 100) {
  const windows = Math.max(1, Math.ceil(durationMs / windowMs))
  let served = 0
  let last = -1
  const hit = new Uint8Array(windows)
  for (const t of okEndsSorted) {
    if (t < 0 || t > durationMs) continue
    const w = Math.min(windows - 1, Math.floor(t / windowMs))
    hit[w] = 1
    if (w !== last) {
      served++
      last = w
    }
  }
  // Where the unserved windows start (ms into the measured period), to line them up with the log.
  const unservedAtMs = []
  for (let w = 0; w < windows; w++) if (!hit[w]) unservedAtMs.push(w * windowMs)
  return { windows, served, ratio: served / windows, windowMs, unservedAtMs }
}

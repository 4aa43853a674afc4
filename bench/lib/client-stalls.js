// Watches the bench process's own event loop: a 5 ms ticker records every gap between ticks longer
// than thresholdMs as a stall { from, to } (ms since t0). A silence in the benign traffic that
// overlaps a client stall was (partly) the load generator not running, not the server failing.
export function watchClientStalls({ thresholdMs = 20, tickMs = 5 } = {}) {
  const stalls = []
  let t0 = performance.now()
  let last = t0
  const timer = setInterval(() => {
    const now = performance.now()
    if (now - last > thresholdMs) stalls.push({ from: last - t0, to: now - t0 })
    last = now
  }, tickMs)
  return {
    /** Re-bases the timeline (call when measuring starts); earlier stalls are dropped. */
    reset(newT0) {
      t0 = newT0
      last = performance.now()
      stalls.length = 0
    },
    stop() {
      clearInterval(timer)
      return stalls
    },
  }
}

/** Total ms of stalls inside [from, to], and the longest stall overall. */
export function stallOverlap(stalls, from, to) {
  let overlap = 0
  for (const s of stalls) overlap += Math.max(0, Math.min(to, s.to) - Math.max(from, s.from))
  return overlap
}

export function longestStall(stalls) {
  return stalls.reduce((m, s) => Math.max(m, s.to - s.from), 0)
}

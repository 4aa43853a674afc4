// Latency histogram with 10 µs resolution up to 10 s (autocannon's own histogram rounds to whole
// milliseconds, too coarse for a "p99 within +1 ms" budget). Values above 10 s go to an overflow list.
const RESOLUTION_MS = 0.01
const BUCKETS = 1_000_000

export class LatencyHistogram {
  constructor() {
    this.counts = new Uint32Array(BUCKETS)
    this.overflow = []
    this.count = 0
    this.max = 0
  }

  record(ms) {
    this.count++
    if (ms > this.max) this.max = ms
    const bucket = Math.floor(ms / RESOLUTION_MS)
    if (bucket < BUCKETS) this.counts[bucket]++
    else this.overflow.push(ms)
  }

  /** Nearest-rank percentile in ms (upper edge of the bucket), p in 0..100. */
  percentile(p) {
    if (this.count === 0) return NaN
    const rank = Math.max(1, Math.ceil((p / 100) * this.count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]
      if (seen >= rank) return (i + 1) * RESOLUTION_MS
    }
    const rest = [...this.overflow].sort((a, b) => a - b)
    return rest[Math.min(rest.length - 1, rank - seen - 1)]
  }
}

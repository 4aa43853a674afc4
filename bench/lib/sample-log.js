// Compact record of benign requests (typed arrays, not one object per request), so that a 6 s run of
// 100k+ requests adds little garbage to the bench process and its GC pauses stay short.
export class SampleLog {
  constructor(capacity = 1 << 16) {
    this.starts = new Float64Array(capacity)
    this.ends = new Float64Array(capacity)
    this.size = 0
    this.okCount = 0
    this.okIndex = new Uint8Array(capacity)
    /** outcomes of failed requests (status code or error code), in order */
    this.failures = []
  }

  push(start, end, ok, outcome) {
    if (this.size === this.starts.length) this.#grow()
    this.starts[this.size] = start
    this.ends[this.size] = end
    this.okIndex[this.size] = ok ? 1 : 0
    this.size++
    if (ok) this.okCount++
    else this.failures.push(outcome)
  }

  /** End times of the successful requests, sorted. */
  okEndsSorted() {
    const out = new Float64Array(this.okCount)
    for (let i = 0, j = 0; i < this.size; i++) if (this.okIndex[i]) out[j++] = this.ends[i]
    return out.sort()
  }

  /** Latencies (ms) of the successful requests, sorted. */
  okLatenciesSorted() {
    const out = new Float64Array(this.okCount)
    for (let i = 0, j = 0; i < this.size; i++) if (this.okIndex[i]) out[j++] = this.ends[i] - this.starts[i]
    return out.sort()
  }

  #grow() {
    const n = this.starts.length * 2
    for (const key of ['starts', 'ends', 'okIndex']) {
      const bigger = new this[key].constructor(n)
      bigger.set(this[key])
      this[key] = bigger
    }
  }
}

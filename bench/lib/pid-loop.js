// Benign closed-loop load that also records *which process* answered each request: `concurrency`
// loops, each sending GET `path` over a shared keep-alive undici Pool and awaiting the answer
// before sending the next (as closed-loop.js), where the app answers its pid as the body
// (apps/resilience-app.js). After the warm-up (not recorded) the measured period starts: onStart(t0)
// is called then, so the caller can schedule an event (a kill, a reload) on the same clock. Every
// request of the measured period is recorded: start/end (ms since t0), ok (2xx), outcome (status
// or error code), pid (0 when there was no 2xx body naming one). Requests sent during the warm-up
// are not recorded, even when they end after t0.
//
// Bounded by time and maxRequests; after a failed request a loop pauses errorPauseMs, so a server
// refusing connections is not hammered with thousands of instant failures. The bench process's own
// event-loop stalls are watched over the measured period (client-stalls.js).
import { Pool } from 'undici'
import { watchClientStalls } from './client-stalls.js'

/** Typed-array record of the requests (no object per request: less GC in the load generator). */
export class PidSampleLog {
  constructor(capacity = 1 << 15) {
    this.size = 0
    this.starts = new Float64Array(capacity)
    this.ends = new Float64Array(capacity)
    this.ok = new Uint8Array(capacity)
    this.pids = new Int32Array(capacity)
    /** index -> outcome of the failed requests */
    this.failures = new Map()
  }

  push(start, end, ok, outcome, pid) {
    if (this.size === this.starts.length) this.#grow()
    const i = this.size++
    this.starts[i] = start
    this.ends[i] = end
    this.ok[i] = ok ? 1 : 0
    this.pids[i] = pid
    if (!ok) this.failures.set(i, outcome)
  }

  /** Plain objects of the requests, sorted by end time (for the summary; done once, after the run). */
  byEnd() {
    const out = []
    for (let i = 0; i < this.size; i++) {
      out.push({ start: this.starts[i], end: this.ends[i], ok: this.ok[i] === 1, pid: this.pids[i], outcome: this.ok[i] ? 200 : this.failures.get(i) })
    }
    return out.sort((a, b) => a.end - b.end)
  }

  #grow() {
    const n = this.starts.length * 2
    for (const key of ['starts', 'ends', 'ok', 'pids']) {
      const bigger = new this[key].constructor(n)
      bigger.set(this[key])
      this[key] = bigger
    }
  }
}

export async function pidLoop({ origin, path, concurrency = 40, durationMs = 10_000, warmupMs = 1000, timeoutMs = 5000, maxRequests = 2_000_000, errorPauseMs = 10, onStart }) {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) throw new Error(`load only to 127.0.0.1, got ${origin}`)
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } })
  const samples = new PidSampleLog()
  const watcher = watchClientStalls()
  let t0 = 0
  let sent = 0
  let measuring = false
  const warmupEnd = performance.now() + warmupMs
  let stopAt = Infinity

  async function one() {
    const start = performance.now()
    let outcome
    let pid = 0
    try {
      const res = await pool.request({ path, method: 'GET' })
      const text = await res.body.text()
      outcome = res.statusCode
      if (outcome >= 200 && outcome < 300) pid = Number.parseInt(text, 10) || 0
    } catch (err) {
      outcome = err.code ?? err.name ?? 'error'
    }
    return { start, end: performance.now(), outcome, pid, ok: typeof outcome === 'number' && outcome >= 200 && outcome < 300 }
  }

  async function loop() {
    while (performance.now() < stopAt && sent < maxRequests) {
      if (!measuring && performance.now() >= warmupEnd) startMeasuring()
      const wasMeasuring = measuring
      sent++
      const r = await one()
      if (wasMeasuring) samples.push(r.start - t0, r.end - t0, r.ok, r.outcome, r.pid)
      if (!r.ok) await new Promise((resolve) => setTimeout(resolve, errorPauseMs))
    }
  }

  function startMeasuring() {
    measuring = true
    t0 = performance.now()
    stopAt = t0 + durationMs
    watcher.reset(t0)
    onStart?.(t0)
  }

  // If every loop is stuck in a request when the warm-up ends, start measuring anyway.
  const warmTimer = setTimeout(() => measuring || startMeasuring(), warmupMs)
  try {
    await Promise.all(Array.from({ length: concurrency }, loop))
  } finally {
    clearTimeout(warmTimer)
    await pool.destroy().catch(() => {})
  }
  return { samples, t0, durationMs, sent, stalls: watcher.stop() }
}

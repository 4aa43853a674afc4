// Benign closed-loop client: `concurrency` loops, each sending GET `path` over a shared keep-alive
// undici Pool and awaiting the answer before sending the next, until durationMs has passed or
// maxRequests were sent. Each request is recorded: start/end (ms since t0), ok (2xx), outcome
// (status code or error code) in a SampleLog. After a failed request a loop pauses `errorPauseMs`, so a dead
// server is not hammered with thousands of instant failures.
import { Pool } from 'undici'
import { SampleLog } from './sample-log.js'

// `interject`, when given, is asked before each request once measuring has started; when it
// returns a promise, the loop spends that turn awaiting it instead of a benign request (see
// flood-loop.js, which mixes poison in this way).
export async function closedLoop({ origin, path, concurrency = 20, durationMs = 6000, warmupMs = 1000, timeoutMs = 5000, maxRequests = 2_000_000, errorPauseMs = 10, onStart, interject }) {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } })
  const samples = new SampleLog()
  let t0 = 0
  let sent = 0
  let measuring = false
  const warmupEnd = performance.now() + warmupMs
  let stopAt = Infinity

  async function one() {
    const start = performance.now()
    let outcome
    try {
      const res = await pool.request({ path, method: 'GET' })
      await res.body.dump()
      outcome = res.statusCode
    } catch (err) {
      outcome = err.code ?? err.name ?? 'error'
    }
    return { start, end: performance.now(), outcome, ok: typeof outcome === 'number' && outcome >= 200 && outcome < 300 }
  }

  async function loop() {
    while (performance.now() < stopAt && sent < maxRequests) {
      if (!measuring && performance.now() >= warmupEnd) startMeasuring()
      const wasMeasuring = measuring
      sent++
      const other = measuring && interject ? interject() : null
      if (other) {
        await other
        continue
      }
      const { start, end, outcome, ok } = await one()
      if (wasMeasuring) samples.push(start - t0, end - t0, ok, outcome)
      if (!ok) await new Promise((r) => setTimeout(r, errorPauseMs))
    }
  }

  function startMeasuring() {
    measuring = true
    t0 = performance.now()
    stopAt = t0 + durationMs
    onStart?.(t0)
  }

  // If every loop is stuck in a request when warm-up ends, start measuring anyway.
  const warmTimer = setTimeout(() => measuring || startMeasuring(), warmupMs)
  try {
    await Promise.all(Array.from({ length: concurrency }, loop))
  } finally {
    clearTimeout(warmTimer)
    await pool.destroy().catch(() => {})
  }
  return { samples, t0, durationMs }
}

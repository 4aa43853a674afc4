// Closed-loop load for busy.js: `connections` loops, each sending GET `path` over a shared keep-alive
// undici Pool and awaiting the answer before sending the next. Unlike closed-loop.js, a request is
// judged by when it *completes*: on a route that queues for seconds, the requests started after the
// warm-up are mostly still queued at the end, so counting only those would miss almost every answer.
// The run lasts warmupMs + durationMs; every completed request is recorded (start and end in ms since
// the load's start, ok, outcome: status code or error code). What is still in flight when the run
// ends is aborted and counted as pending: neither success nor failure (its start time is kept).
// Bounded by time and by maxRequests sent; after a failed request a loop pauses errorPauseMs, so a
// server that answers errors at once is not hammered.
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { watchClientStalls } from './client-stalls.js'
import { SampleLog } from './sample-log.js'

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])

/** True for the client's own timeouts (undici error codes), as opposed to other errors. */
export const isTimeout = (outcome) => TIMEOUT_CODES.has(outcome)

/**
 * Returns { samples (SampleLog), pendingStarts (ms since the start, of the requests aborted at the
 * end), sent, runMs, elapsedMs (shorter than runMs only when maxRequests ran out), stalls (the bench
 * process's own event-loop stalls, ms since the start) }.
 */
export async function busyLoad({ origin, path, connections, warmupMs, durationMs, timeoutMs, maxRequests, errorPauseMs = 100 }) {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) throw new Error(`load only to 127.0.0.1, got ${origin}`)
  const pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } })
  const samples = new SampleLog()
  const pendingStarts = []
  const end = new AbortController()
  setMaxListeners(0, end.signal) // one listener per request in flight: up to `connections`
  const runMs = warmupMs + durationMs
  const watcher = watchClientStalls()
  const t0 = performance.now()
  watcher.reset(t0)
  const timer = setTimeout(() => end.abort(), runMs)
  let sent = 0

  async function loop() {
    while (!end.signal.aborted && sent < maxRequests) {
      sent++
      const start = performance.now() - t0
      let outcome
      try {
        const res = await pool.request({ path, method: 'GET', signal: end.signal })
        await res.body.dump()
        outcome = res.statusCode
      } catch (err) {
        if (end.signal.aborted) {
          pendingStarts.push(start)
          return
        }
        outcome = err.code ?? err.name ?? 'error'
      }
      const ok = typeof outcome === 'number' && outcome >= 200 && outcome < 300
      samples.push(start, performance.now() - t0, ok, outcome)
      if (!ok) await sleep(errorPauseMs, undefined, { signal: end.signal }).catch(() => {})
    }
  }

  try {
    await Promise.all(Array.from({ length: connections }, loop))
  } finally {
    clearTimeout(timer)
    end.abort()
    await pool.destroy().catch(() => {})
  }
  return { samples, pendingStarts, sent, runMs, elapsedMs: performance.now() - t0, stalls: watcher.stop() }
}

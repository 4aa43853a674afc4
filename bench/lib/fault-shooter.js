// Faulty requests: shot i is due at t0 + i * intervalMs, for i < ceil(durationMs / intervalMs),
// each on a fresh connection (so a cluster spreads them over its workers) with a per-request
// timeout. Shots are scheduled by absolute time, so a busy client fires late, never fewer.
// done() waits for all of them to settle (bounded by the timeout).
import { Client } from 'undici'

export function faultShooter({ origin, path, intervalMs = 200, durationMs = 6000, timeoutMs = 2000 }) {
  const total = path ? Math.ceil(durationMs / intervalMs) : 0
  const shots = []
  const pending = []
  let timer
  let t0 = 0
  let stopped = false

  function fireOne() {
    const client = new Client(origin, { pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } })
    const started = performance.now()
    const shot = { at: started - t0, outcome: undefined, ms: undefined }
    shots.push(shot)
    pending.push(
      (async () => {
        const signal = AbortSignal.timeout(timeoutMs + 100)
        try {
          const res = await client.request({ path, method: 'GET', signal })
          await res.body.dump({ signal })
          shot.outcome = res.statusCode
        } catch (err) {
          const timedOut = err.name === 'TimeoutError' || err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT'
          shot.outcome = timedOut ? 'timeout' : (err.code ?? err.name ?? 'error')
        } finally {
          shot.ms = performance.now() - started
          client.destroy().catch(() => {})
        }
      })(),
    )
  }

  function tick() {
    while (!stopped && shots.length < total && performance.now() >= t0 + shots.length * intervalMs) fireOne()
    if (!stopped && shots.length < total) timer = setTimeout(tick, Math.max(0, t0 + shots.length * intervalMs - performance.now()))
  }

  return {
    start(startT0) {
      t0 = startT0
      tick()
    },
    async done() {
      // Shots that came due while the client was too busy to run its timer are still fired.
      while (shots.length < total && performance.now() >= t0 + shots.length * intervalMs) fireOne()
      stopped = true
      clearTimeout(timer)
      await Promise.all(pending)
      return shots
    },
  }
}

// Faulty requests: one GET `path` every intervalMs from the moment start() is called until
// durationMs has passed, each on a fresh connection (so a cluster spreads them over its workers)
// with a per-request timeout. done() waits for all of them to settle (bounded by the timeout).
import { Client } from 'undici'

export function faultShooter({ origin, path, intervalMs = 200, durationMs = 6000, timeoutMs = 2000, maxRequests = 1000 }) {
  const shots = []
  const pending = []
  let timer
  let t0 = 0

  function fire() {
    if (shots.length >= maxRequests || performance.now() - t0 >= durationMs) {
      clearInterval(timer)
      return
    }
    const client = new Client(origin, { pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } })
    const shot = { at: performance.now() - t0, outcome: undefined, ms: undefined }
    shots.push(shot)
    const started = performance.now()
    const p = (async () => {
      const signal = AbortSignal.timeout(timeoutMs + 100)
      try {
        const res = await client.request({ path, method: 'GET', signal })
        await res.body.dump({ signal })
        shot.outcome = res.statusCode
      } catch (err) {
        shot.outcome = err.name === 'TimeoutError' || err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : (err.code ?? err.name ?? 'error')
      } finally {
        shot.ms = performance.now() - started
        client.destroy().catch(() => {})
      }
    })()
    pending.push(p)
  }

  return {
    start(startT0) {
      t0 = startT0
      fire()
      timer = setInterval(fire, intervalMs)
    },
    async done() {
      clearInterval(timer)
      await Promise.all(pending)
      return shots
    },
  }
}

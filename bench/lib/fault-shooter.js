// Faulty requests: shot i is due at t0 + i * intervalMs, for i < ceil(durationMs / intervalMs),
// each on a fresh connection (so a cluster spreads them over its workers) with a per-request
// timeout. Scheduling is periodic.js's.
import { Client } from 'undici'
import { periodic } from './periodic.js'

export function faultShooter({ origin, path, intervalMs = 200, durationMs = 6000, timeoutMs = 2000 }) {
  return periodic({
    total: path ? Math.ceil(durationMs / intervalMs) : 0,
    intervalMs,
    fire(_i, t0) {
      const client = new Client(origin, { pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } })
      const started = performance.now()
      const shot = { at: started - t0, outcome: undefined, ms: undefined }
      const settled = (async () => {
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
      })()
      return { shot, settled }
    },
  })
}

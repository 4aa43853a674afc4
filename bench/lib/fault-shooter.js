// Faulty requests: shot i is due at t0 + i * intervalMs, for i < ceil(durationMs / intervalMs),
// each on a fresh connection (so a cluster spreads them over its workers) with a per-request
// timeout. With `count`, exactly that many shots instead, spread evenly inside the run: at
// durationMs x 1/(count+1), 2/(count+1), ... (3 shots: at 1/4, 2/4 and 3/4 of the run).
// Scheduling is periodic.js's.
import { Client } from 'undici'
import { periodic } from './periodic.js'

export function faultShooter({ origin, path, intervalMs = 200, durationMs = 6000, timeoutMs = 2000, count }) {
  const spread = count !== undefined ? durationMs / (count + 1) : undefined
  return periodic({
    total: !path ? 0 : spread !== undefined ? count : Math.ceil(durationMs / intervalMs),
    intervalMs: spread ?? intervalMs,
    offsetMs: spread ?? 0,
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

// Open-loop poison at a fixed rate: shot i is due at t0 + i x 1000/rate ms, for i < durationMs x
// rate / 1000, whatever the server does (an attacker does not wait for answers). Each shot is a
// sendPoison() (fresh connection, timeout) of `pathFor(i)`, not awaited. At most `maxInFlight`
// are open at once: a shot due while that many are open is not sent but recorded as `skipped`, so
// the bench's sockets stay bounded and the rate actually sent is reported, not assumed.
// Scheduling is periodic.js's (by absolute time: a client that was stalled catches up).
import { periodic } from './periodic.js'
import { sendPoison } from './poison-request.js'

export function rateShooter({ origin, pathFor, rate = 115, durationMs = 60_000, timeoutMs = 2000, maxInFlight = 300 }) {
  let inFlight = 0
  let maxSeen = 0
  const shooter = periodic({
    total: rate > 0 ? Math.floor((durationMs * rate) / 1000) : 0,
    intervalMs: rate > 0 ? 1000 / rate : Infinity,
    fire(i, t0) {
      if (inFlight >= maxInFlight) return { shot: { i, path: pathFor(i), at: performance.now() - t0, outcome: 'skipped', skipped: true }, settled: Promise.resolve() }
      inFlight++
      maxSeen = Math.max(maxSeen, inFlight)
      const shot = { i }
      const settled = sendPoison({ origin, path: pathFor(i), timeoutMs, t0 }).then((result) => {
        inFlight--
        Object.assign(shot, result)
      })
      return { shot, settled }
    },
  })
  return { ...shooter, maxInFlightSeen: () => maxSeen }
}

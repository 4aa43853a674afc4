// Periodic poison: shot i is due at t0 + i * intervalMs, for i < ceil(durationMs / intervalMs),
// each a sendPoison() (fresh connection, timeout). `pathFor(i)` gives shot i's path: the same one
// every time repeats one poison signature. Scheduling is periodic.js's.
import { periodic } from './periodic.js'
import { sendPoison } from './poison-request.js'

export function poisonShooter({ origin, pathFor, intervalMs = 200, durationMs = 6000, timeoutMs = 2000 }) {
  return periodic({
    total: Math.ceil(durationMs / intervalMs),
    intervalMs,
    fire(i, t0) {
      const shot = { i }
      return { shot, settled: sendPoison({ origin, path: pathFor(i), timeoutMs, t0 }).then((result) => Object.assign(shot, result)) }
    },
  })
}

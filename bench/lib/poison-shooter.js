// Periodic poison: shot i is due at t0 + i * intervalMs, for i < ceil(durationMs / intervalMs),
// each a sendPoison() (fresh connection, timeout). `pathFor(i)` gives shot i's path: the same one
// every time repeats one poison signature. Shots are scheduled by absolute time, so a busy client
// fires late, never fewer. done() waits for all of them to settle (bounded by the timeout).
import { sendPoison } from './poison-request.js'

export function poisonShooter({ origin, pathFor, intervalMs = 200, durationMs = 6000, timeoutMs = 2000 }) {
  const total = Math.ceil(durationMs / intervalMs)
  const shots = []
  const pending = []
  let timer
  let t0 = 0
  let stopped = false

  function fireOne() {
    const i = shots.length
    const slot = { i }
    shots.push(slot)
    pending.push(sendPoison({ origin, path: pathFor(i), timeoutMs, t0 }).then((shot) => Object.assign(slot, shot)))
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

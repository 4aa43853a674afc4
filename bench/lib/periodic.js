// Fires shot i at t0 + offsetMs + i * intervalMs (offsetMs: 0 unless given), for i < total. Shots
// are scheduled by absolute time, so a busy client fires late, never fewer. `fire(i, t0)` starts
// one shot and returns the record to keep and a promise that settles (bounded by the shot's own
// timeout). done() fires any shots that came due while the client was too busy to run its timer,
// then waits for all of them.

export function periodic({ total, intervalMs, offsetMs = 0, fire }) {
  const shots = []
  const pending = []
  let timer
  let t0 = 0
  let first = 0 // when shot 0 is due: t0 + offsetMs
  let stopped = false

  function fireOne() {
    const { shot, settled } = fire(shots.length, t0)
    shots.push(shot)
    pending.push(settled)
  }

  function tick() {
    while (!stopped && shots.length < total && performance.now() >= first + shots.length * intervalMs) fireOne()
    if (!stopped && shots.length < total) timer = setTimeout(tick, Math.max(0, first + shots.length * intervalMs - performance.now()))
  }

  return {
    start(startT0) {
      t0 = startT0
      first = t0 + offsetMs
      tick()
    },
    async done() {
      while (shots.length < total && performance.now() >= first + shots.length * intervalMs) fireOne()
      stopped = true
      clearTimeout(timer)
      await Promise.all(pending)
      return shots
    },
  }
}

// Synchronous CPU work in fixed units, shared by busy-app.js (GET /cpu?ms=<n>) and bench/busy.js
// (which calibrates the unit once per run and hands it to every peer through the environment).
// A request's work is a fixed number of rounds of floating-point math, not "spin until the clock
// says n ms": a thread that shares its core with other threads then does the same work as one that
// has a core to itself, only later. (A clock-bounded spin does less work per request on an
// oversubscribed machine, so a server running more threads than cores would look faster.)
const ROUND = 2_000

/** `rounds` rounds of math (~20 µs each on the 2-core bench machine); returns a number to use. */
export function work(rounds) {
  let x = 1
  for (let r = 0; r < rounds; r++) {
    for (let i = 1; i <= ROUND; i++) x = Math.sqrt(x * 1.000001 + i) + Math.sin(i)
  }
  return x
}

/** Rounds per ms of CPU on this machine: the fastest of `samples` timed runs, the least disturbed. */
export function calibrate({ samples = 30, rounds = 50 } = {}) {
  work(rounds * 4) // let the JIT optimize it first
  let best = Infinity
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now()
    work(rounds)
    best = Math.min(best, performance.now() - t0)
  }
  return rounds / best
}

// Think times: exponential with mean `meanMs`, like the paper's clients (mean 7 s there, scaled
// down here so a short run has enough actions). Capped at 10 means so one unlucky draw can't park
// a user for most of a short run.

export function thinkTime(rng, meanMs) {
  if (!(meanMs > 0)) return 0
  return Math.min(-meanMs * Math.log(1 - rng()), 10 * meanMs)
}

/** Sleeps `ms`, or less when `signal` aborts first. Never rejects. */
export function sleep(ms, signal) {
  if (signal?.aborted || ms <= 0) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

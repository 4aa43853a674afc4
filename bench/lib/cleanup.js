// Process-wide cleanup registry: every started peer / daemon registers a stop function here, and
// it runs on normal completion, on error, on SIGINT/SIGTERM and when the global time budget expires.
const tasks = new Set()
let running = null

/** Registers an async cleanup function; returns a function that unregisters it. */
export function onCleanup(fn) {
  tasks.add(fn)
  return () => tasks.delete(fn)
}

/** Runs all registered cleanups once, newest first; errors are printed, not thrown. */
export function runCleanup() {
  if (running) return running
  running = (async () => {
    for (const fn of [...tasks].reverse()) {
      tasks.delete(fn)
      try {
        await fn()
      } catch (err) {
        console.error('cleanup failed:', err?.message ?? err)
      }
    }
    running = null
  })()
  return running
}

/**
 * Runs main() with cleanup guaranteed: on success, on a thrown error, on SIGINT/SIGTERM and when
 * budgetMs elapses (the run is then aborted with exit code 2).
 */
export async function runGuarded(main, { budgetMs }) {
  const bail = (why, code) => {
    console.error(`\n${why}: stopping started processes...`)
    runCleanup().finally(() => process.exit(code))
  }
  const onSigint = () => bail('SIGINT', 130)
  const onSigterm = () => bail('SIGTERM', 143)
  process.on('SIGINT', onSigint)
  process.on('SIGTERM', onSigterm)
  const watchdog = setTimeout(() => bail(`time budget of ${Math.round(budgetMs / 1000)} s exceeded`, 2), budgetMs)
  watchdog.unref()
  try {
    await main()
    await runCleanup()
  } catch (err) {
    console.error(err?.stack ?? err)
    await runCleanup()
    process.exitCode = 1
  } finally {
    clearTimeout(watchdog)
    process.off('SIGINT', onSigint)
    process.off('SIGTERM', onSigterm)
  }
}

// One `node` process serving the app on `port` (the app itself, or a primary that forks it), its
// output in a scratch log, registered for cleanup, and resolved once `readyPath` answers.
// Shared by the node and cluster peers, which differ only in what they run.
import { onCleanup } from '../cleanup.js'
import { spawnLogged, stopChild, tailFile } from '../child.js'
import { REPO_DIR, scratchFile } from '../paths.js'
import { waitReady } from '../wait-ready.js'

/** Resolves with { handle, logFile, stop }; rejects (after stopping it) if it never gets ready. */
export async function startNodeProcess({ kind, args, port, readyPath, tag, heapMb, env = {}, graceMs = 5000 }) {
  const logFile = scratchFile(`${tag}-${kind}.log`)
  const nodeArgs = heapMb ? [`--max-old-space-size=${heapMb}`] : []
  const handle = spawnLogged(process.execPath, [...nodeArgs, ...args], {
    cwd: REPO_DIR,
    env: { ...process.env, ...env, PORT: String(port) },
    logFile,
  })
  const stop = async () => {
    unregister()
    await stopChild(handle, { graceMs })
  }
  const unregister = onCleanup(stop)
  try {
    await waitReady(`http://127.0.0.1:${port}${readyPath}`, { alive: () => !handle.state.exited })
  } catch (err) {
    await stop()
    throw new Error(`${kind} peer did not start: ${err.message}\n${tailFile(logFile)}`, { cause: err })
  }
  return { handle, logFile, stop }
}

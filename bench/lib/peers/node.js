// Peer "node": the app run by one plain `node` process (the baseline; one core).
// `env` (optional) adds variables to the app's environment.
import { onCleanup } from '../cleanup.js'
import { spawnLogged, stopChild, tailFile } from '../child.js'
import { REPO_DIR, scratchFile } from '../paths.js'
import { waitReady } from '../wait-ready.js'

export async function startNodePeer({ app, port, readyPath, tag, heapMb, env = {} }) {
  const logFile = scratchFile(`${tag}-node.log`)
  const nodeArgs = heapMb ? [`--max-old-space-size=${heapMb}`] : []
  const handle = spawnLogged(process.execPath, [...nodeArgs, app], {
    cwd: REPO_DIR,
    env: { ...process.env, ...env, PORT: String(port) },
    logFile,
  })
  const stop = async () => {
    unregister()
    await stopChild(handle, { graceMs: 5000 })
  }
  const unregister = onCleanup(stop)
  try {
    await waitReady(`http://127.0.0.1:${port}${readyPath}`, { alive: () => !handle.state.exited })
  } catch (err) {
    await stop()
    throw new Error(`node peer did not start: ${err.message}\n${tailFile(logFile)}`)
  }
  return { kind: 'node', port, instances: 1, logFile, info: async () => ({ pid: handle.child.pid }), stop }
}

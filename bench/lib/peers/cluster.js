// Peer "cluster": the app under Node's own cluster module, one worker per core, a worker that exits
// is respawned (../campaign/cluster-primary.js: the hand-written primary a Node team would use).
// The heap cap goes on the primary's command line; the workers inherit it.
import fs from 'node:fs'
import path from 'node:path'
import { onCleanup } from '../cleanup.js'
import { spawnLogged, stopChild, tailFile } from '../child.js'
import { BENCH_DIR, REPO_DIR, scratchFile } from '../paths.js'
import { waitReady } from '../wait-ready.js'

const PRIMARY = path.join(BENCH_DIR, 'lib', 'campaign', 'cluster-primary.js')

export async function startClusterPeer({ app, port, readyPath, tag, instances, heapMb, env = {} }) {
  const logFile = scratchFile(`${tag}-cluster.log`)
  const nodeArgs = heapMb ? [`--max-old-space-size=${heapMb}`] : []
  const handle = spawnLogged(process.execPath, [...nodeArgs, PRIMARY, app, String(instances ?? '')], {
    cwd: REPO_DIR,
    env: { ...process.env, ...env, PORT: String(port) },
    logFile,
  })
  const stop = async () => {
    unregister()
    // The primary SIGKILLs its workers 2 s after SIGTERM; give it that plus a margin.
    await stopChild(handle, { graceMs: 5000 })
  }
  const unregister = onCleanup(stop)
  try {
    await waitReady(`http://127.0.0.1:${port}${readyPath}`, { alive: () => !handle.state.exited })
  } catch (err) {
    await stop()
    throw new Error(`cluster peer did not start: ${err.message}\n${tailFile(logFile)}`)
  }
  const info = async () => {
    const events = primaryEvents(logFile)
    return { pid: handle.child.pid, restarts: events['worker-respawn'] ?? 0, events }
  }
  return { kind: 'cluster', port, instances, logFile, info, stop }
}

/** Counts the primary's JSON event lines (worker-exit, worker-respawn) in its log. */
function primaryEvents(logFile) {
  const counts = {}
  let text = ''
  try {
    text = fs.readFileSync(logFile, 'utf8')
  } catch {
    return counts
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{"event":"worker-')) continue
    try {
      const { event } = JSON.parse(line)
      counts[event] = (counts[event] ?? 0) + 1
    } catch {
      // a worker's own output interleaved with ours
    }
  }
  return counts
}

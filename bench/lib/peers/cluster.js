// Peer "cluster": the app under Node's own cluster module, one worker per core, a worker that exits
// is respawned (../campaign/cluster-primary.js: the hand-written primary a Node team would use).
// The heap cap goes on the primary's command line; the workers inherit it.
import path from 'node:path'
import { countLogEvents } from '../log-events.js'
import { BENCH_DIR } from '../paths.js'
import { childPids } from '../resources.js'
import { startNodeProcess } from './node-process.js'

const PRIMARY = path.join(BENCH_DIR, 'lib', 'campaign', 'cluster-primary.js')

export async function startClusterPeer({ app, port, readyPath, tag, instances, heapMb, env }) {
  // The primary SIGKILLs its workers 2 s after SIGTERM; its stop grace gives it that plus a margin.
  const { handle, logFile, stop } = await startNodeProcess({ kind: 'cluster', args: [PRIMARY, app, String(instances ?? '')], port, readyPath, tag, heapMb, env })
  const info = async () => {
    const events = primaryEvents(logFile)
    return { pid: handle.child.pid, restarts: events['worker-respawn'] ?? 0, events }
  }
  const pids = () => [handle.child.pid, ...childPids(handle.child.pid)]
  return { kind: 'cluster', port, instances, logFile, info, pids, stop }
}

/** The primary's own events (worker-exit, worker-respawn), not whatever JSON its workers print. */
function primaryEvents(logFile) {
  return Object.fromEntries(Object.entries(countLogEvents(logFile)).filter(([event]) => event.startsWith('worker-')))
}

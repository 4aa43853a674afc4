// Peer "node": the app run by one plain `node` process (the baseline; one core).
// `env` (optional) adds variables to the app's environment.
import { startNodeProcess } from './node-process.js'

export async function startNodePeer({ app, port, readyPath, tag, heapMb, env }) {
  const { handle, logFile, stop } = await startNodeProcess({ kind: 'node', args: [app], port, readyPath, tag, heapMb, env })
  return { kind: 'node', port, instances: 1, logFile, info: async () => ({ pid: handle.child.pid }), pids: () => [handle.child.pid], stop }
}

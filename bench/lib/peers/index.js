// Starting a peer (the same app under node | pm2 | crashless) on a free port, ready to take load.
import { cores } from '../cores.js'
import { freePort } from '../free-port.js'
import { sleep } from '../wait-ready.js'
import { startNodePeer } from './node.js'
import { startPm2Peer } from './pm2.js'
import { startCrashlessPeer, crashlessUnavailable } from './crashless.js'

export const PEER_KINDS = ['node', 'pm2', 'crashless']
export { crashlessUnavailable, cores }

const starters = { node: startNodePeer, pm2: startPm2Peer, crashless: startCrashlessPeer }

/**
 * Starts `kind` serving `app` and resolves once `readyPath` answers 2xx (plus settleMs).
 * opts: { app, readyPath, tag, pm2 (daemon, for kind pm2), heapMb?, settleMs? }.
 * PM2 gets `-i max` and crashless `--instances <cores>`: both use every core.
 * Returns { kind, port, origin, instances, info(), stop() }.
 */
export async function startPeer(kind, opts) {
  const start = starters[kind]
  if (!start) throw new Error(`unknown peer ${kind}`)
  const port = await freePort()
  const instances = kind === 'pm2' ? 'max' : kind === 'crashless' ? cores() : 1
  const t0 = performance.now()
  const peer = await start({ ...opts, port, instances })
  const startMs = performance.now() - t0
  await sleep(opts.settleMs ?? 300)
  return { ...peer, origin: `http://127.0.0.1:${port}`, startMs }
}

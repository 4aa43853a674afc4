// Starting a peer (the same app under node | cluster | pm2 | crashless) on a free port, ready to take load.
import { cores } from '../cores.js'
import { freePort } from '../free-port.js'
import { sleep } from '../wait-ready.js'
import { startClusterPeer } from './cluster.js'
import { startNodePeer } from './node.js'
import { startPm2Peer } from './pm2.js'
import { startCrashlessPeer, crashlessUnavailable } from './crashless.js'

// PEER_KINDS: the peers of overhead/faults/poison (their defaults and time budgets count on these);
// ALL_PEER_KINDS adds `cluster` (node:cluster with respawn) and `crashless-app` (crashless again,
// the caller giving it another config: campaign.js runs it without components), measured by campaign.js.
export const PEER_KINDS = ['node', 'pm2', 'crashless']
export const ALL_PEER_KINDS = ['node', 'cluster', 'pm2', 'crashless', 'crashless-app']
// CRASHLESS_RUNTIMES_PEER: crashless with --runtimes 2 and the cores shared among them (--instances
// cores/2 each), measured by overhead.js on request (--peers ...,crashless-2rt): does a second
// dispatcher thread add throughput on this machine?
export const CRASHLESS_RUNTIMES_PEER = 'crashless-2rt'
export { crashlessUnavailable, cores }

const starters = {
  node: startNodePeer,
  cluster: startClusterPeer,
  pm2: startPm2Peer,
  crashless: startCrashlessPeer,
  'crashless-app': startCrashlessPeer,
  [CRASHLESS_RUNTIMES_PEER]: async (opts) => ({ ...(await startCrashlessPeer({ ...opts, runtimes: 2 })), kind: CRASHLESS_RUNTIMES_PEER }),
}

/**
 * Starts `kind` serving `app` and resolves once `readyPath` answers 2xx (plus settleMs).
 * opts: { app, readyPath, tag, pm2 (daemon, for kind pm2), heapMb?, settleMs?, env? (added to the app's environment),
 * instances? }. PM2 gets `-i max`, cluster one worker per core and crashless `--instances <cores>`:
 * all use every core. `instances` overrides that (resilience.js gives PM2 and crashless the same count).
 * Returns { kind, port, origin, instances, info(), stop() }.
 */
export async function startPeer(kind, opts) {
  const start = starters[kind]
  if (!start) throw new Error(`unknown peer ${kind}`)
  const port = await freePort()
  const instances = opts.instances ?? (kind === 'pm2' ? 'max' : kind === 'crashless' || kind === 'crashless-app' || kind === 'cluster' ? cores() : kind === CRASHLESS_RUNTIMES_PEER ? Math.max(1, Math.round(cores() / 2)) : 1)
  const t0 = performance.now()
  const peer = await start({ ...opts, port, instances })
  const startMs = performance.now() - t0
  await sleep(opts.settleMs ?? 300)
  return { ...peer, origin: `http://127.0.0.1:${port}`, startMs }
}

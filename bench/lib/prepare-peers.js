// What both benches do before starting peers: drop crashless when it is not built (with the reason),
// snapshot its build, and create the private PM2 daemon when PM2 is among the peers.
import { crashlessUnavailable } from './peers/index.js'
import { snapshotCrashless } from './crashless-snapshot.js'
import { createPm2Daemon } from './pm2-daemon.js'

export async function preparePeers(requested, { snapshot = true, log = console.log } = {}) {
  const skipped = {}
  let peers = requested
  let crashlessRoot
  // `crashless-app` (campaign.js: the whole app as one component) and `crashless-2rt` are the same build.
  if (peers.some(isCrashless)) {
    const why = crashlessUnavailable()
    if (why) {
      for (const kind of peers.filter(isCrashless)) skipped[kind] = why
      log(`skipping crashless: ${why}`)
      peers = peers.filter((p) => !isCrashless(p))
    } else if (snapshot) {
      crashlessRoot = await snapshotCrashless()
      log(`crashless build snapshot: ${crashlessRoot}`)
    }
  }
  const pm2 = peers.includes('pm2') ? createPm2Daemon() : undefined
  return { peers, skipped, pm2, crashlessRoot }
}

/** crashless and its variants (crashless-app, crashless-2rt). */
const isCrashless = (kind) => kind === 'crashless' || kind.startsWith('crashless-')

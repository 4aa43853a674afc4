// One campaign run: start a peer with a fresh store and a fresh fault file, run the client emulator
// for the run's duration, arm the fault at the fixed times (or start the attacker at the first
// one), stop the peer. Returns the raw records plus what the peer and the injector saw.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { watchClientStalls, longestStall } from '../client-stalls.js'
import { onCleanup } from '../cleanup.js'
import { startPeer } from '../peers/index.js'
import { round } from '../stats.js'
import { faultInjector } from './fault-arm.js'

/**
 * plan: { peer, fault, component, durationMs, faultAtMs, users, thinkMeanMs, requestTimeoutMs,
 *         seed, attackRate, attackSeed, heapMb, ebidSeed }
 * env: { app, client (the imported client module), pm2, crashlessRoot }
 */
export async function runOne(plan, { app, client, pm2, crashlessRoot }) {
  const tag = `campaign-${plan.fault}${plan.peer === 'crashless-app' ? '-app' : ''}`
  const injector = faultInjector(tag)
  const store = freshStore(plan.peer)
  const env = { EBID_STORE: store.kind, EBID_SEED: String(plan.ebidSeed), EBID_FAULT_FILE: injector.file, ...store.env }
  // The request deadline is set below the clients' timeout, as anyone running crashless behind
  // clients that give up after 2 s would: a request stuck past it (an async deadlock) is re-run
  // elsewhere while its client still waits. Everything else is crashless's default.
  const crashlessConfig = { limits: { heapMb: plan.heapMb }, timeouts: { requestMs: Math.round(plan.requestTimeoutMs * 0.4) }, admin: { enabled: false } }
  // `crashless` runs eBid's components (API.md) each in a pool of its own, so a fault in one
  // reboots that one only; `crashless-app` runs the whole app as one component, for comparison.
  if (plan.peer === 'crashless') Object.assign(crashlessConfig, COMPONENTS)
  let peer
  try {
    // crashless is measured once its keeper's standby is up: the standby loading the app's every
    // instance a second time, in the first seconds of load, is start-up, not the service (its
    // start is `startMs`).
    peer = await startPeer(plan.peer, { app, readyPath: '/health', tag, heapMb: plan.heapMb, crashlessConfig, env, pm2, crashlessRoot, waitStandby: true })
    const measured = await drive(plan, peer.origin, client, injector)
    const info = await peer.info().catch((err) => ({ error: err.message }))
    const t0 = performance.now()
    const stopping = peer
    peer = undefined
    await stopping.stop()
    const stopMs = round(performance.now() - t0, 0)
    return { ...measured, shots: injector.close(), peerInfo: info, startMs: round(stopping.startMs, 0), stopMs, logFile: stopping.logFile }
  } finally {
    if (peer) await peer.stop()
    injector.close()
    store.remove()
  }
}

/**
 * eBid's components (API.md) as crashless components, each with as many instances as the whole
 * app gets (one per core, from --instances) and a spare; the home routes (`/`, `/health`) are
 * the default component's, on one instance. With one instance per component, a loop or a
 * deadlock in bids left no sibling to move its waiting requests to: they went to the spare
 * just promoted with their deadline (800 ms) nearly spent, and the deadline then retired that
 * healthy instance too (measured: 97.1% and 97.9% success against 100% for the whole app).
 */
export const COMPONENTS = {
  components: { users: { prefix: '/users' }, items: { prefix: '/items' }, bids: { prefix: '/bids' }, default: { instances: 1 } },
}

/** EBID_STORE=sqlite with a new file in a new temp dir (WAL files beside it), or crashless's own store. */
function freshStore(peer) {
  if (peer === 'crashless' || peer === 'crashless-app') return { kind: 'crashless', env: {}, remove: () => {} }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crashless-bench-ebid-db-'))
  const remove = () => {
    unregister()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const unregister = onCleanup(remove)
  return { kind: 'sqlite', env: { EBID_DB: path.join(dir, 'ebid.db') }, remove }
}

async function drive(plan, origin, client, injector) {
  const { durationMs, faultAtMs } = plan
  const abort = new AbortController()
  // A safety bound only: the emulator stops by itself at durationMs and its requests time out.
  const hardStop = setTimeout(() => abort.abort(), durationMs + plan.requestTimeoutMs + 10_000)
  const stalls = watchClientStalls()
  const t0 = performance.now()
  const armedAt = []
  let attack
  const timers = faultAtMs.map((at) =>
    setTimeout(() => {
      armedAt.push(performance.timeOrigin + performance.now())
      if (plan.fault === 'attacker') {
        if (!attack) attack = client.runAttacker({ origin, ratePerSec: plan.attackRate, durationMs: durationMs - at, seed: plan.attackSeed, signal: abort.signal })
      } else if (plan.fault !== 'none') {
        injector.arm(plan.fault, plan.component, at)
      }
    }, Math.max(0, at - (performance.now() - t0))),
  )
  try {
    const result = await client.runEmulation({
      origin,
      users: plan.users,
      durationMs,
      seed: plan.seed,
      thinkMeanMs: plan.thinkMeanMs,
      requestTimeoutMs: plan.requestTimeoutMs,
      signal: abort.signal,
    })
    const attacker = attack ? summarizeAttack(await attack.catch((err) => ({ error: err.message }))) : undefined
    // Arm times on the emulator's own clock (its t = 0 is result.startedAt).
    const faultAtActual = armedAt.map((abs) => round(abs - result.startedAt, 0))
    return { result, attacker, faultAtActual, clientStalls: { longestMs: round(longestStall(stalls.stop()), 1) } }
  } finally {
    for (const t of timers) clearTimeout(t)
    clearTimeout(hardStop)
    stalls.stop()
    abort.abort()
  }
}

/** The attacker's result without per-request arrays (kept: their counts and outcomes). */
function summarizeAttack(res) {
  if (!res || typeof res !== 'object') return res
  const out = {}
  for (const [k, v] of Object.entries(res)) {
    if (!Array.isArray(v)) out[k] = v
    else {
      out[`${k}Count`] = v.length
      if (v.every((x) => x && typeof x === 'object' && ('outcome' in x || 'status' in x))) {
        const by = (out[`${k}ByOutcome`] = {})
        for (const x of v) by[x.outcome ?? x.status] = (by[x.outcome ?? x.status] ?? 0) + 1
      }
    }
  }
  return out
}

/**
 * A whole deployment, as docs/deployment.md describes it, started for one test or bench run: a
 * private network (namespaces), a real Redis with AOF, a real nginx in front, and N nodes, each
 * in its own namespace with its own address. `stop()` ends every process it started (by pid) and
 * deletes the namespaces.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readCrashlessStore, readPlainStore, type StoreView } from './checker.js'
import { createNetwork, type Network } from './network.js'
import { startNginx, type ClusterNginx, type SiteOptions } from './nginx.js'
import { NODE_PORT, repoRoot, startCrashlessNode, startPm2Node, type ClusterNode, type Peer } from './nodes.js'
import { startClusterRedis, type ClusterRedis } from './redis.js'

export interface ClusterOptions {
  peer?: Peer
  /** Default 3. */
  nodes?: number
  /** Instances (crashless) or workers (PM2) per node. Default 1. */
  instances?: number
  /** Merged into each crashless node's config (shallowly, by section). */
  crashless?: Record<string, object>
  /** nginx timeouts and bounds (the docs' defaults otherwise). */
  site?: Omit<SiteOptions, 'upstreams' | 'listen'>
}

export interface Cluster {
  readonly peer: Peer
  readonly dir: string
  readonly network: Network
  readonly redis: ClusterRedis
  readonly nginx: ClusterNginx
  readonly nodes: ClusterNode[]
  /** What the app's store holds now (for the checker). */
  readStore(): Promise<StoreView>
  stop(): Promise<void>
}

/** A session secret shared by the nodes (any node must verify any node's cookies). */
const SESSION_SECRET = 'cluster-test-secret-0123456789abcdefghij'

/**
 * Starts everything; on failure, stops what was started.
 *
 * @example
 * ```ts
 * const cluster = await startCluster({ site: { readTimeoutS: 3 } })
 * try { ... } finally { await cluster.stop() }
 * ```
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const peer = options.peer ?? 'crashless'
  const count = options.nodes ?? 3
  const instances = options.instances ?? 1
  const dir = mkdtempSync(join(tmpdir(), 'crashless-cluster-'))
  const stops: (() => Promise<void>)[] = []
  const stop = async (): Promise<void> => {
    for (const fn of stops.splice(0).reverse()) await fn().catch((err: Error) => console.error(`cluster cleanup: ${err.message}`))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const network = await createNetwork(count)
    stops.push(() => network.destroy())
    const redis = await startClusterRedis(network.hub, network.hubAddress, dir)
    stops.push(() => redis.stop())
    const nodes: ClusterNode[] = []
    stops.push(async () => {
      for (const node of nodes) await node.stop()
    })
    const extra = options.crashless ?? {}
    const starting = network.nodes.map((slot, i) => {
      const name = `n${i + 1}`
      const nodeDir = join(dir, name)
      if (peer === 'pm2') return startPm2Node(name, slot, `${repoRoot}test/fixtures/cluster-plain-app.mjs`, nodeDir, instances, { REDIS_URL: redis.url })
      const config = {
        instances,
        ...extra,
        state: { backend: 'redis', redisUrl: redis.url, redisPrefix: 'crashless:', ...extra.state },
        immunity: { store: 'redis', quarantineMs: 600_000, ...extra.immunity },
        session: { secret: SESSION_SECRET, ...extra.session },
        log: { level: 'info', ...extra.log },
      }
      return startCrashlessNode(name, slot, `${repoRoot}test/fixtures/cluster-app.mjs`, nodeDir, config)
    })
    // One at a time would triple the start on 2 cores; all at once, each records itself for stop().
    const settled = await Promise.allSettled(starting.map((p) => p.then((node) => (nodes.push(node), node))))
    const failed = settled.find((s) => s.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
    nodes.sort((a, b) => a.name.localeCompare(b.name))
    const nginx = await startNginx(network.hub, dir, { ...options.site, upstreams: network.nodes.map((slot) => `${slot.address}:${NODE_PORT}`) })
    stops.push(() => nginx.stop())
    return {
      peer,
      dir,
      network,
      redis,
      nginx,
      nodes,
      readStore: () => (peer === 'pm2' ? readPlainStore(redis.socket) : readCrashlessStore(redis.socket)),
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

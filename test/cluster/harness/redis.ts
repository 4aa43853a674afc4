/**
 * The cluster's Redis: a real redis-server in the hub namespace, on the bridge address (what the
 * nodes use) and on a Unix socket (what the test and its checker use from outside the sandbox),
 * with the durability the deployment docs recommend: `appendonly yes`, `appendfsync always`, so
 * a commit Redis acknowledged survives a kill -9 of Redis. It can be killed and started again on
 * the same data directory (the redis-restart scenario).
 */
import { join } from 'node:path'
import { isAlive, killAll, spawnIn, type NsProcess } from './ns-process.js'

/** $CRASHLESS_REDIS_SERVER, else `redis-server` on the PATH (.ci/run installs it). */
const BINARY = process.env.CRASHLESS_REDIS_SERVER ?? 'redis-server'

export interface ClusterRedis {
  /** What nodes connect to: redis://<hub>:6379 */
  readonly url: string
  /** The Unix socket, for clients outside the sandbox. */
  readonly socket: string
  /** The running server's pid. */
  pid(): number
  /** kill -9 of the server (no shutdown save: only the AOF keeps what it acknowledged). */
  kill(): Promise<void>
  /** Starts it again on the same data (after `kill`); resolves once it accepts connections. */
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts redis-server in `ns`, listening on `address`:6379 and a socket in `dir`.
 *
 * @example
 * ```ts
 * const redis = await startClusterRedis(network.hub, network.hubAddress, dir)
 * await redis.kill(); await redis.start()
 * ```
 */
export async function startClusterRedis(ns: string, address: string, dir: string, options: { appendonly?: boolean } = {}): Promise<ClusterRedis> {
  const socket = join(dir, 'redis.sock')
  const args = [
    '--port', '6379', '--bind', address, '--protected-mode', 'no',
    '--unixsocket', socket, '--unixsocketperm', '700',
    '--dir', dir, '--save', '',
    '--appendonly', options.appendonly === false ? 'no' : 'yes', '--appendfsync', 'always',
    '--daemonize', 'no',
  ]
  let server: NsProcess | null = null
  const start = async (): Promise<void> => {
    const started = spawnIn(ns, BINARY, args, { cwd: dir })
    server = started
    const ready = await Promise.race([
      new Promise<boolean>((resolve) => {
        const check = setInterval(() => {
          if (!/Ready to accept connections/.test(started.output())) return
          clearInterval(check)
          resolve(true)
        }, 10)
        void started.exited.then(() => {
          clearInterval(check)
          resolve(false)
        })
      }),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000)),
    ])
    if (!ready) {
      killAll([started.pid])
      throw new Error(`redis-server did not start in ${ns}:\n${started.output()}`)
    }
  }
  const kill = async (): Promise<void> => {
    const current = server
    if (!current || !current.alive()) return
    killAll([current.pid])
    await current.exited
  }
  await start()
  return {
    url: `redis://${address}:6379`,
    socket,
    pid: () => server!.pid,
    kill,
    start,
    stop: async () => {
      await kill()
      if (server && isAlive(server.pid)) killAll([server.pid])
    },
  }
}

/**
 * The nodes of a cluster, one per namespace: crashless (`crashless run`: a keeper, its runtimes
 * and their instances) or, for comparison, PM2 cluster mode (a PM2 daemon and its workers) with
 * the same app logic written against Redis directly. Either can be killed whole (every process
 * of the node, by pid, at once: a machine lost) and started again.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isAlive, killAll, processTree, spawnIn, type LogLine, type NsProcess } from './ns-process.js'

/** The repository root, from dist/test/cluster/harness/. */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))
/** Where nodes listen, inside their own namespace (each has its own, so they can share it). */
export const NODE_PORT = 3000
export const ADMIN_PORT = 9300

export type Peer = 'crashless' | 'pm2'

/** One node. */
export interface ClusterNode {
  readonly name: string
  readonly ns: string
  readonly address: string
  /** Its log lines (crashless: every runtime's and the keeper's, this start's and earlier ones'). */
  readonly logs: LogLine[]
  /** Resolves with the first log line of its current start matching (crashless only). */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** Every pid of the node now (keeper, runtimes, child instances / daemon, workers). */
  pids(): number[]
  /** kill -9 of every process of the node at once; resolves once they are gone. */
  kill(): Promise<void>
  /** Starts the node again (after `kill`); resolves once it serves. */
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * HTTP requests made from inside `ns` by a node process there, one after the other on one
 * keep-alive connection: the last one's status and body, and each one's round trip in ms (the
 * first includes connecting). Status 0: no answer (the body says why).
 *
 * @example
 * ```ts
 * const { status, ms } = await nsRequest(node.ns, 'http://127.0.0.1:3000/boom', 'GET', 5)
 * ```
 */
export function nsRequest(ns: string, url: string, method = 'GET', times = 1): Promise<{ status: number; body: string; ms: number[] }> {
  const script = `(async()=>{const ms=[];let status=0,body='';for(let i=0;i<${times};i++){const t=performance.now();try{const r=await fetch(${JSON.stringify(url)},{method:${JSON.stringify(method)}});body=await r.text();status=r.status}catch(e){status=0;body=String(e.cause?.code??e.message)}ms.push(performance.now()-t)}console.log(JSON.stringify({status,body,ms}))})()`
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`request from ${ns} to ${url} failed: ${stderr || err.message}`))
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as { status: number; body: string; ms: number[] })
    })
  })
}

/**
 * Starts a crashless node: `crashless run <app>` in `ns`, its config in `dir`, port 3000 on every
 * address; resolves once it logs `listening`.
 *
 * @example
 * ```ts
 * const node = await startCrashlessNode('n1', slot, app, dir, { state: { backend: 'redis', redisUrl } })
 * ```
 */
export async function startCrashlessNode(name: string, slot: { ns: string; address: string }, app: string, dir: string, config: object): Promise<ClusterNode> {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'crashless.config.mjs')
  writeFileSync(file, `export default ${JSON.stringify(config, null, 2)}\n`)
  const logs: LogLine[] = []
  let current: NsProcess | null = null
  const start = async (): Promise<void> => {
    const args = [`${repoRoot}bin/crashless.js`, 'run', app, '--config', file, '--port', String(NODE_PORT), '--host', '0.0.0.0', '--admin-port', String(ADMIN_PORT)]
    current = spawnIn(slot.ns, process.execPath, args, { cwd: dir, env: { CLUSTER_NODE: name }, sink: logs })
    await current.waitForLog((l) => l.event === 'listening', 30_000)
  }
  await start()
  const pids = (): number[] => (current && isAlive(current.pid) ? processTree(current.pid) : [])
  const kill = async (): Promise<void> => {
    // Taken before: once the keeper is gone its runtimes are no longer found below it.
    const all = pids()
    killAll(all)
    const deadline = Date.now() + 5_000
    while (all.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return {
    name,
    ns: slot.ns,
    address: slot.address,
    logs,
    waitForLog: (match, timeoutMs) => current!.waitForLog(match, timeoutMs),
    pids,
    kill,
    start,
    stop: async () => {
      const node = current
      if (!node || !node.alive()) return kill()
      const tree = pids()
      node.child.kill('SIGTERM')
      const timer = setTimeout(() => killAll(tree), 15_000)
      await node.exited
      clearTimeout(timer)
      killAll(tree.filter(isAlive))
    },
  }
}

const PM2_BIN = `${repoRoot}node_modules/pm2/bin/pm2`

/**
 * Starts a PM2 node: a PM2 daemon of its own (PM2_HOME in `dir`) in `ns`, running `app` in
 * cluster mode with `instances` workers on port 3000; resolves once it answers `readyPath`.
 *
 * @example
 * ```ts
 * const node = await startPm2Node('n1', slot, plainApp, dir, 2, { REDIS_URL: redis.url })
 * ```
 */
export async function startPm2Node(name: string, slot: { ns: string; address: string }, app: string, dir: string, instances: number, env: Record<string, string>, readyPath = '/healthz'): Promise<ClusterNode> {
  mkdirSync(dir, { recursive: true })
  const home = join(dir, 'pm2')
  const pm2Env = { ...env, PM2_HOME: home, PORT: String(NODE_PORT), CLUSTER_NODE: name }
  const pm2 = (args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', slot.ns, process.execPath, PM2_BIN, ...args], { cwd: dir, env: { ...process.env, ...pm2Env }, timeout: 60_000 }, (err, _stdout, stderr) =>
        err ? reject(new Error(`pm2 ${args.join(' ')} in ${slot.ns}: ${stderr || err.message}`)) : resolve(),
      )
    })
  const daemonPid = (): number | null => {
    try {
      const pid = Number(readFileSync(join(home, 'pm2.pid'), 'utf8').trim())
      return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null
    } catch {
      return null
    }
  }
  const pids = (): number[] => {
    const pid = daemonPid()
    return pid === null ? [] : processTree(pid)
  }
  const start = async (): Promise<void> => {
    await pm2(['start', app, '--name', 'app', '-i', String(instances)])
    const deadline = Date.now() + 30_000
    for (;;) {
      const answer = await nsRequest(slot.ns, `http://127.0.0.1:${NODE_PORT}${readyPath}`).catch(() => null)
      if (answer?.status === 200) return
      if (Date.now() > deadline) throw new Error(`pm2 node ${name} did not answer ${readyPath}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const kill = async (): Promise<void> => {
    const all = pids()
    killAll(all)
    const deadline = Date.now() + 5_000
    while (all.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await start()
  return {
    name,
    ns: slot.ns,
    address: slot.address,
    logs: [],
    waitForLog: () => Promise.reject(new Error('a PM2 node has no crashless log')),
    pids,
    kill,
    start,
    stop: async () => {
      const all = pids()
      if (existsSync(join(home, 'pm2.pid'))) await pm2(['kill']).catch(() => {})
      killAll(all.filter(isAlive))
    },
  }
}

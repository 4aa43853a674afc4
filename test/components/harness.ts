/**
 * Shared pieces of the component tests: a crashless process serving a fixture with a config,
 * its admin report (which instance is which), and a bounded closed loop of requests that
 * records every answer and which instance gave it.
 */
import type { CrashlessConfig } from '../../src/config/index.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { send, startWithConfig } from '../faults/harness.js'

export { send, stopAll, waitForEvents, eventsSince } from '../faults/harness.js'

/** A crashless process with its admin endpoint's URL. */
export type Served = CrashlessProcess & { adminUrl: string }

/** Starts crashless on `app` (a fixture) with `config`; resolves once the admin endpoint listens too. */
export async function start(config: CrashlessConfig, app: string): Promise<Served> {
  const server = await startWithConfig({ immunity: { store: 'memory' }, ...config }, app)
  const admin = await server.waitForLog((l) => l.event === 'admin-listening', 10_000)
  return Object.assign(server, { adminUrl: `http://127.0.0.1:${admin.port as number}` })
}

/** One instance as `GET /instances` reports it. */
export interface Listed {
  id: string
  role: string
  state: string
  uptimeMs: number
}

/** The instances the runtime holds now. */
export async function listInstances(server: Served): Promise<Listed[]> {
  const answer = await send(`${server.adminUrl}/instances`)
  return (JSON.parse(answer.body) as { instances: Listed[] }).instances
}

/** Ids of the ready serving instances whose id starts with `prefix` (a component's `name/`), sorted. */
export async function serving(server: Served, prefix: string): Promise<string[]> {
  return (await listInstances(server))
    .filter((i) => i.role === 'serving' && i.state === 'ready' && i.id.startsWith(prefix) && (prefix !== '' || /^[is]\d+$/.test(i.id)))
    .map((i) => i.id)
    .sort()
}

/** What a loop of requests saw. */
export interface LoopReport {
  ok: number
  failures: string[]
  /** Who answered, as the fixture says it (`thread`, `pid`), once each. */
  answeredBy: Set<string>
  /** How long each successful request took, send to last byte, in ms, in the order they ended. */
  ms: number[]
}

/** The `q` quantile (0..1) of `values` by nearest rank; 0 when there are none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/**
 * Sends `GET url` with a unique tag until `stop` resolves (null: never) or `max` requests went,
 * with `workers` loops; every answer is recorded, with its latency. A 200 whose JSON names
 * `thread` and `pid` counts as success.
 */
export async function loop(url: string, stop: Promise<unknown> | null, options: { workers?: number; max?: number } = {}): Promise<LoopReport> {
  const report: LoopReport = { ok: 0, failures: [], answeredBy: new Set(), ms: [] }
  let stopped = false
  void stop?.then(() => (stopped = true), () => (stopped = true))
  const max = options.max ?? 2_000
  let sent = 0
  const worker = async (w: number): Promise<void> => {
    while (!stopped && sent < max) {
      const tag = `w${w}-${sent++}`
      const began = performance.now()
      try {
        const answer = await send(`${url}${url.includes('?') ? '&' : '?'}tag=${tag}`)
        if (answer.status !== 200) {
          report.failures.push(`${tag}: ${answer.status} ${answer.body.slice(0, 200)}`)
          continue
        }
        const who = JSON.parse(answer.body) as { thread: number; pid: number }
        report.answeredBy.add(`pid ${who.pid} thread ${who.thread}`)
        report.ok++
        report.ms.push(performance.now() - began)
      } catch (err) {
        report.failures.push(`${tag}: ${(err as Error).message}`)
      }
    }
  }
  await Promise.all(Array.from({ length: options.workers ?? 4 }, (_, w) => worker(w)))
  return report
}

/**
 * The failure scenarios of the cluster tests and bench, each under the same bounded load: none;
 * node-kill (kill -9 of every process of one node, which stays dead); partition (one node cut
 * off from the network, then plugged back in); redis-restart (kill -9 of Redis, started again on
 * its AOF). The fault comes once the load is established (a number of operations done, not a
 * clock), and the load goes on until enough operations ended after the recovery.
 */
import { check, type Verdict } from './checker.js'
import type { Cluster } from './cluster.js'
import { startLoad, type Load, type Op } from './load.js'

export type Scenario = 'none' | 'node-kill' | 'partition' | 'redis-restart'

export interface ScenarioOptions {
  users?: number
  /** Operations before the fault. Default 300. */
  before?: number
  /** Operations after the recovery. Default 600. */
  after?: number
  /** How long a partition or a Redis outage lasts. Default 1500 / 500 ms. */
  faultMs?: number
  /** Which node is killed or cut off. Default the second. */
  victim?: number
  /** Unique per run: names users and write ids. */
  tag: string
  /** Called while the fault holds (the partition scenario's release happens here). */
  during?: () => Promise<void>
  /** Called after the recovery (and `after` operations), before the load stops; may run it longer. */
  afterRecovery?: (load: Load) => Promise<void>
  /** Upper bound on the load's duration. Default 30 s. */
  maxMs?: number
}

export interface ScenarioResult {
  scenario: Scenario
  verdict: Verdict
  ops: Op[]
  /** When the load started (performance.now()): ops' times minus this are ms into the run. */
  startedAt: number
  /** ms from the load's start. */
  faultAt: number
  recoveredAt: number
  /** Operations that ended after the recovery, and how many of them succeeded. */
  afterRecovery: { ops: number; ok: number }
}

/**
 * Runs `scenario` on `cluster` under load, then checks the store against the acknowledgements.
 *
 * @example
 * ```ts
 * const { verdict } = await runScenario(cluster, 'node-kill', { tag: 'kill1' })
 * assert.equal(verdict.lostWrites, 0)
 * ```
 */
export async function runScenario(cluster: Cluster, scenario: Scenario, options: ScenarioOptions): Promise<ScenarioResult> {
  const before = options.before ?? 300
  const after = options.after ?? 600
  const victim = options.victim ?? 1
  const startedAt = performance.now()
  const load = startLoad({ socket: cluster.nginx.socket, users: options.users ?? 40, maxMs: options.maxMs ?? 30_000, tag: options.tag })
  let faultAt: number
  let recoveredAt: number
  try {
    await load.untilOps(before)
    faultAt = performance.now() - startedAt
    switch (scenario) {
      case 'none':
        break
      case 'node-kill':
        await cluster.nodes[victim]!.kill()
        await options.during?.()
        break
      case 'partition':
        await cluster.network.cut(victim)
        await Promise.all([pause(options.faultMs ?? 1500), options.during?.()])
        await cluster.network.reconnect(victim)
        break
      case 'redis-restart':
        await cluster.redis.kill()
        await Promise.all([pause(options.faultMs ?? 500), options.during?.()])
        await cluster.redis.start()
        break
    }
    recoveredAt = performance.now() - startedAt
    const done = load.ops.length
    await load.untilOps(done + after)
    await options.afterRecovery?.(load)
  } finally {
    await load.stop()
  }
  const ops = load.ops
  const verdict = check(ops, await cluster.readStore())
  const later = ops.filter((op) => op.endedAt - startedAt > recoveredAt)
  return { scenario, verdict, ops, startedAt, faultAt, recoveredAt, afterRecovery: { ops: later.length, ok: later.filter((op) => op.ok).length } }
}

/** A fault's duration: how long it is held is the scenario's own choice, not a wait for anything. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

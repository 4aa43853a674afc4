import type { ComponentSet } from '../components/index.js'
import { tallies, type InstanceFigures, type KeeperFigures, type MetricsSource } from '../metrics/index.js'

/**
 * The runtime's live objects as the metrics, `/instances` and `crashless status` read them,
 * at scrape time only. `keeper` returns the counts the keeper last relayed (null without one).
 *
 * @example
 * ```ts
 * const source = metricsSourceOf(components, () => keeperCounts)
 * source.instances() // [{ id: 'i1', component: 'default', role: 'serving', state: 'ready', … }]
 * ```
 */
export function metricsSourceOf(components: ComponentSet, keeper: () => KeeperFigures | null): MetricsSource {
  return {
    instances: () => {
      const now = performance.now()
      return components.all.flatMap((component) =>
        component.pool.roster().map(({ instance, role }): InstanceFigures => ({
          id: instance.id,
          component: component.name,
          role,
          state: instance.state,
          uptimeMs: instance.readyAt > 0 ? Math.round(now - instance.readyAt) : 0,
          served: instance.served,
          inflight: instance.inflight.size,
          recoveries: instance.recoveries,
          heapMb: instance.heapMb,
          heapCapMb: instance.heapCapMb,
          externalMb: instance.externalMb,
        })),
      )
    },
    starting: () => components.startingCount,
    components: () => components.all.map((component) => ({ component: component.name, starting: component.pool.startingCount })),
    inFlight: () => components.pending,
    queued: () => components.queued,
    commits: () => components.commits.stats(),
    immunity: () => components.immunity.summary(),
    keeper,
  }
}

/**
 * The runtime's recovery actions since it started, by name, for `/instances`.
 *
 * @example
 * ```ts
 * recoveryTotals() // { suppressed: 1, reserved: 3, isolated: 0, reruns: 2, cures: 1, quarantines: 1, quarantineHits: 40, instancesLost: 2, rejuvenations: 0, deadlines: 0 }
 * ```
 */
export function recoveryTotals(): Record<string, number> {
  const sum = (tally: Map<string, number>): number => [...tally.values()].reduce((a, b) => a + b, 0)
  return {
    suppressed: tallies.suppressed,
    reserved: tallies.reserved,
    isolated: tallies.isolated,
    reruns: sum(tallies.reruns),
    cures: tallies.cures,
    quarantines: sum(tallies.quarantines),
    quarantineHits: tallies.quarantineHits,
    instancesLost: sum(tallies.instancesLost),
    rejuvenations: sum(tallies.rejuvenations),
    deadlines: tallies.deadlines,
  }
}

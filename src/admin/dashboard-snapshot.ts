import type { ImmunityEntry, ImmunityTable } from '../immunity/index.js'
import { recentIncidents, type RecentIncident } from '../incidents/index.js'
import { recentEvents, type TimelineEvent } from '../metrics/index.js'
import type { InstancesReport } from './admin-routes.js'

/** Most entries of each list a snapshot carries: it is sent twice a second to every open dashboard. */
export const SNAPSHOT_LIMITS = { timeline: 60, immunity: 100, incidents: 20 }

/** What one server-sent event of `/events` carries (the dashboard renders it as is). */
export interface DashboardSnapshot {
  /** Epoch ms on the server: the page computes ages from it, not from its own clock. */
  now: number
  runtime: InstancesReport
  timeline: TimelineEvent[]
  immunity: {
    /** The first entries in signature order (`GET /immunity` pages through all of them). */
    entries: ImmunityEntry[]
    entriesTotal: number
    quarantined: number
    cured: number
  }
  incidents: RecentIncident[]
}

/**
 * Builds the dashboard's snapshot from the runtime's live objects. Bounded: at most
 * {@link SNAPSHOT_LIMITS} of each list. The immunity page is one pass over the table, without
 * sorting it (see ImmunityTable.page).
 *
 * @example
 * ```ts
 * const snapshot = buildSnapshot(deps.instances, deps.immunity)
 * snapshot.runtime.instances.length // 3
 * ```
 */
export function buildSnapshot(instances: () => InstancesReport, immunity: ImmunityTable): DashboardSnapshot {
  const summary = immunity.summary()
  return {
    now: Date.now(),
    runtime: instances(),
    timeline: recentEvents(SNAPSHOT_LIMITS.timeline),
    immunity: { entries: immunity.page(null, SNAPSHOT_LIMITS.immunity).entries, entriesTotal: summary.entries, quarantined: summary.quarantined, cured: summary.cured },
    incidents: recentIncidents(SNAPSHOT_LIMITS.incidents),
  }
}

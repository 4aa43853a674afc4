import { createAdmin, type AdminHttp, type HealthReport, type InstancesReport, type Probes } from '../admin/index.js'
import type { ResolvedConfig } from '../config/index.js'
import type { ComponentSet } from '../components/index.js'
import { openImmunityStore, type ImmunityStore } from '../immunity/index.js'
import type { Logger } from '../log.js'
import type { RuntimeReport } from '../keeper/index.js'
import { createMetricsRegistry, mergeRuntimeMetrics, type KeeperFigures } from '../metrics/index.js'
import { metricsSourceOf, recoveryTotals } from './metrics-source.js'

/** The runtime's parts beside the request path: the persisted immunity table and the admin endpoint. */
export interface ControlPlane {
  /** The admin endpoint's HTTP server, not bound yet (null when `admin.enabled` is false). */
  readonly admin: AdminHttp | null
  /** The immunity table's store (null for `immunity.store: 'memory'`). */
  readonly immunity: ImmunityStore | null
  /** Under a keeper: its latest counts, shown on `/metrics` from now on. */
  setKeeperCounts(counts: KeeperFigures): void
  /** This runtime's figures, for the runtime serving the admin endpoint when `runtimes` is above 1. */
  report(slot: number): Promise<RuntimeReport>
  /**
   * With several runtimes: how the admin endpoint gets the others' reports (through the keeper),
   * and this runtime's slot; `/health`, `/instances` and `/metrics` then cover them all.
   */
  setPeers(slot: number, gather: () => Promise<readonly RuntimeReport[]>): void
  /** Closes the admin endpoint, then writes what the immunity table learned and closes its store. */
  close(): Promise<void>
}

/**
 * Loads the immunity table from its store (so known poison is refused from the first request
 * on) and creates the admin endpoint, unbound: the runtime binds it itself, or, under a keeper,
 * serves the socket the keeper hands over when it is promoted. On failure nothing is left open.
 *
 * @throws ConfigError naming `immunity.path` (store unreadable) or `admin.token` (exposed admin without a token).
 * @example
 * ```ts
 * const control = await startControlPlane(config, components, probes, log, null)
 * await control.close()
 * ```
 */
export async function startControlPlane(config: ResolvedConfig, components: ComponentSet, probes: Probes, log: Logger, requestReload: (() => void) | null): Promise<ControlPlane> {
  const store: ImmunityStore | null = await openImmunityStore(config, components.immunity, log)
  let keeperCounts: KeeperFigures | null = null
  const source = metricsSourceOf(components, () => keeperCounts)
  const startedAt = performance.now()
  // Made on the first scrape: a standby that is never promoted never pays for one.
  let registry: ReturnType<typeof createMetricsRegistry> | null = null
  const own = {
    health: (): Omit<HealthReport, 'quarantined'> => {
      const active = components.active
      return { status: 'ok', instances: { active: active.length, ready: active.filter((i) => i.state === 'ready').length, spares: components.spareCount }, pending: components.pending }
    },
    instances: (): InstancesReport => ({
      pid: process.pid,
      uptimeMs: Math.round(performance.now() - startedAt),
      instances: source.instances(),
      starting: source.starting(),
      inFlight: source.inFlight(),
      queued: source.queued(),
      recoveries: recoveryTotals(),
      keeper: keeperCounts,
    }),
    metrics: () => (registry ??= createMetricsRegistry(source)),
  }
  let peers: { slot: number; gather: () => Promise<readonly RuntimeReport[]> } | null = null
  const report = async (slot: number): Promise<RuntimeReport> => ({ slot, health: own.health(), instances: { ...own.instances(), runtime: slot }, metrics: await own.metrics().getMetricsAsJSON() })
  /** Every runtime's report, this one's first, by slot; null with one runtime. */
  const all = async (): Promise<RuntimeReport[] | null> => (peers ? [await report(peers.slot), ...(await peers.gather())].sort((a, b) => a.slot - b.slot) : null)
  let admin: AdminHttp | null
  try {
    admin = createAdmin(
      config,
      {
        immunity: components.immunity,
        health: () => (peers ? all().then((reports) => sumHealth(reports!)) : own.health()),
        probes,
        ownInstances: own.instances,
        instances: () => (peers ? all().then((reports) => ({ ...reports!.find((r) => r.slot === peers!.slot)!.instances, runtimes: reports!.map((r) => r.instances) })) : own.instances()),
        metrics: async () => {
          const reports = await all()
          const shown = reports ? mergeRuntimeMetrics(reports) : own.metrics()
          return { contentType: shown.contentType, text: await shown.metrics() }
        },
        reload: requestReload,
        incidentsDir: config.incidents.dir,
      },
      log,
    )
  } catch (err) {
    await store?.close()
    throw err
  }
  let closing: Promise<void> | null = null
  return {
    admin,
    immunity: store,
    setKeeperCounts: (counts) => {
      keeperCounts = counts
    },
    report,
    setPeers: (slot, gather) => {
      peers = { slot, gather }
    },
    close: () =>
      (closing ??= (async () => {
        await admin?.close()
        await store?.close()
      })()),
  }
}

/** `/health` over several runtimes: their instances and pending requests summed. */
function sumHealth(reports: readonly RuntimeReport[]): Omit<HealthReport, 'quarantined'> {
  const instances = { active: 0, ready: 0, spares: 0 }
  let pending = 0
  for (const { health } of reports) {
    instances.active += health.instances.active
    instances.ready += health.instances.ready
    instances.spares += health.instances.spares
    pending += health.pending
  }
  return { status: 'ok', instances, pending, runtimes: reports.length }
}

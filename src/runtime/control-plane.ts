import { createAdmin, type AdminHttp, type Probes } from '../admin/index.js'
import type { ResolvedConfig } from '../config/index.js'
import type { ComponentSet } from '../components/index.js'
import { openImmunityStore, type ImmunityStore } from '../immunity/index.js'
import type { Logger } from '../log.js'
import { createMetricsRegistry, type KeeperFigures } from '../metrics/index.js'
import { metricsSourceOf, recoveryTotals } from './metrics-source.js'

/** The runtime's parts beside the request path: the persisted immunity table and the admin endpoint. */
export interface ControlPlane {
  /** The admin endpoint's HTTP server, not bound yet (null when `admin.enabled` is false). */
  readonly admin: AdminHttp | null
  /** The immunity table's store (null for `immunity.store: 'memory'`). */
  readonly immunity: ImmunityStore | null
  /** Under a keeper: its latest counts, shown on `/metrics` from now on. */
  setKeeperCounts(counts: KeeperFigures): void
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
  let admin: AdminHttp | null
  try {
    admin = createAdmin(
      config,
      {
        immunity: components.immunity,
        health: () => {
          const active = components.active
          return { status: 'ok', instances: { active: active.length, ready: active.filter((i) => i.state === 'ready').length, spares: components.spareCount }, pending: components.pending }
        },
        probes,
        instances: () => ({
          pid: process.pid,
          uptimeMs: Math.round(performance.now() - startedAt),
          instances: source.instances(),
          starting: source.starting(),
          inFlight: source.inFlight(),
          queued: source.queued(),
          recoveries: recoveryTotals(),
          keeper: keeperCounts,
        }),
        metrics: async () => {
          registry ??= createMetricsRegistry(source)
          return { contentType: registry.contentType, text: await registry.metrics() }
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
    close: () =>
      (closing ??= (async () => {
        await admin?.close()
        await store?.close()
      })()),
  }
}

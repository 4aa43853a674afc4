import { createAdmin, type AdminHttp } from '../admin/index.js'
import type { ResolvedConfig } from '../config/index.js'
import type { Dispatcher } from '../dispatch/index.js'
import { openImmunityStore, type ImmunityStore } from '../immunity/index.js'
import type { Logger } from '../log.js'
import type { Pool } from '../supervise/index.js'

/** The runtime's parts beside the request path: the persisted immunity table and the admin endpoint. */
export interface ControlPlane {
  /** The admin endpoint's HTTP server, not bound yet (null when `admin.enabled` is false). */
  readonly admin: AdminHttp | null
  /** The immunity table's store (null for `immunity.store: 'memory'`). */
  readonly immunity: ImmunityStore | null
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
 * const control = await startControlPlane(config, dispatcher, pool, log)
 * await control.close()
 * ```
 */
export async function startControlPlane(config: ResolvedConfig, dispatcher: Dispatcher, pool: Pool, log: Logger, requestReload: (() => void) | null): Promise<ControlPlane> {
  const store: ImmunityStore | null = await openImmunityStore(config, dispatcher.immunity, log)
  let admin: AdminHttp | null
  try {
    admin = createAdmin(
      config,
      {
        immunity: dispatcher.immunity,
        health: () => ({
          status: 'ok',
          instances: { active: pool.active.length, ready: pool.active.filter((i) => i.state === 'ready').length, spares: pool.spareCount },
          pending: dispatcher.pending,
        }),
        reload: requestReload,
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
    close: () =>
      (closing ??= (async () => {
        await admin?.close()
        await store?.close()
      })()),
  }
}

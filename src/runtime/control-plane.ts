import { startAdmin, type AdminServer } from '../admin/index.js'
import type { ResolvedConfig } from '../config/index.js'
import type { Dispatcher } from '../dispatch/index.js'
import { openImmunityStore, type ImmunityStore } from '../immunity/index.js'
import type { Logger } from '../log.js'
import type { Pool } from '../supervise/index.js'

/** The runtime's parts beside the request path: the persisted immunity table and the admin endpoint. */
export interface ControlPlane {
  readonly admin: AdminServer | null
  /** Closes the admin endpoint, then writes what the immunity table learned and closes its store. */
  close(): Promise<void>
}

/**
 * Loads the immunity table from its store (so known poison is refused from the first request
 * on) and starts the admin endpoint. Called after the instances are up and before the front
 * binds. On failure nothing is left open.
 *
 * @throws ConfigError naming `immunity.path` (store unreadable) or `admin.token` (exposed admin without a token).
 * @example
 * ```ts
 * const control = await startControlPlane(config, dispatcher, pool, log)
 * await control.close()
 * ```
 */
export async function startControlPlane(config: ResolvedConfig, dispatcher: Dispatcher, pool: Pool, log: Logger): Promise<ControlPlane> {
  const store: ImmunityStore | null = await openImmunityStore(config, dispatcher.immunity, log)
  let admin: AdminServer | null
  try {
    admin = await startAdmin(
      config,
      {
        immunity: dispatcher.immunity,
        health: () => ({
          status: 'ok',
          instances: { active: pool.active.length, ready: pool.active.filter((i) => i.state === 'ready').length, spares: pool.spareCount },
          pending: dispatcher.pending,
        }),
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
    close: () =>
      (closing ??= (async () => {
        await admin?.close()
        await store?.close()
      })()),
  }
}

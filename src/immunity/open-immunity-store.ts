import { resolve } from 'node:path'
import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { ConfigError } from '../errors.js'
import { createBackend } from '../state/index.js'
import { ImmunityStore } from './immunity-store.js'
import type { ImmunityTable } from './immunity-table.js'

/**
 * Opens the store `immunity.store` names and loads it into `table`; null for `memory` (the
 * table is then forgotten on exit). The SQLite file is crashless's own, apart from the app's
 * state store, so poison survives a restart whatever the app's state backend is. With
 * `redis`, nodes of a cluster share what was learned: each loads it at start.
 *
 * @throws ConfigError naming `immunity.path` (or `state.redisUrl`) when the store cannot be opened or read.
 * @example
 * ```ts
 * const store = await openImmunityStore(config, dispatcher.immunity, log)
 * await store?.close()
 * ```
 */
export async function openImmunityStore(config: ResolvedConfig, table: ImmunityTable, log: Logger): Promise<ImmunityStore | null> {
  const { store } = config.immunity
  if (store === 'memory') return null
  // Redis: the state store's server, under a prefix of its own, shared by every node using it.
  const where = store === 'redis' ? `${config.state.redisUrl} (prefix ${config.state.redisPrefix}immunity:)` : resolve(config.immunity.path)
  const option = store === 'redis' ? 'state.redisUrl' : 'immunity.path'
  let backend
  try {
    backend = store === 'redis' ? await createBackend({ kind: 'redis', url: config.state.redisUrl, prefix: `${config.state.redisPrefix}immunity:` }) : await createBackend({ kind: 'sqlite', path: where })
  } catch (err) {
    throw new ConfigError(option, `cannot open the immunity table ${where}: ${(err as Error).message} (set immunity.store: 'memory' to keep it in memory only)`, { cause: err })
  }
  try {
    return await ImmunityStore.attach(table, backend, log)
  } catch (err) {
    await backend.close().catch(() => {})
    throw new ConfigError(option, `cannot read the immunity table ${where}: ${(err as Error).message}${store === 'sqlite' ? ' (delete the file to start afresh)' : ''}`, { cause: err })
  }
}

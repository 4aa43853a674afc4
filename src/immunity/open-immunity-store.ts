import { resolve } from 'node:path'
import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { ConfigError } from '../errors.js'
import { createBackend, openRedisChannel, type RedisChannel } from '../state/index.js'
import { ImmunityStore } from './immunity-store.js'
import type { ImmunityTable } from './immunity-table.js'
import { VerdictBroadcast } from './verdict-broadcast.js'

/**
 * Opens the store `immunity.store` names and loads it into `table`; null for `memory` (the
 * table is then forgotten on exit). The SQLite file is crashless's own, apart from the app's
 * state store, so poison survives a restart whatever the app's state backend is. With
 * `redis`, nodes of a cluster share what was learned: each loads it at start, and verdicts
 * reached on one node are told to the others at once over a pub/sub channel
 * (`<state.redisPrefix>immunity:verdicts`, see VerdictBroadcast).
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
  const prefix = `${config.state.redisPrefix}immunity:`
  const where = store === 'redis' ? `${config.state.redisUrl} (prefix ${prefix})` : resolve(config.immunity.path)
  const option = store === 'redis' ? 'state.redisUrl' : 'immunity.path'
  let backend
  // Subscribed before the table is read, so no verdict falls between the two; messages that
  // arrive while it is read wait for it.
  let channel: RedisChannel | null = null
  const early: string[] = []
  let receive = (message: string): void => void early.push(message)
  let resubscribed: (again: boolean) => void = () => {}
  try {
    if (store === 'redis') {
      channel = await openRedisChannel({
        url: config.state.redisUrl,
        channel: `${prefix}verdicts`,
        onMessage: (message) => receive(message),
        onSubscribed: (again) => resubscribed(again),
        onLost: (why) => log.warn({ event: 'immunity-channel-lost', why }, 'lost the immunity verdict channel; re-reading the table once it is back'),
      })
    }
    backend = store === 'redis' ? await createBackend({ kind: 'redis', url: config.state.redisUrl, prefix }) : await createBackend({ kind: 'sqlite', path: where })
  } catch (err) {
    await channel?.close()
    throw new ConfigError(option, `cannot open the immunity table ${where}: ${(err as Error).message} (set immunity.store: 'memory' to keep it in memory only)`, { cause: err })
  }
  let opened: ImmunityStore
  try {
    opened = await ImmunityStore.attach(table, backend, log)
  } catch (err) {
    await channel?.close()
    await backend.close().catch(() => {})
    throw new ConfigError(option, `cannot read the immunity table ${where}: ${(err as Error).message}${store === 'sqlite' ? ' (delete the file to start afresh)' : ''}`, { cause: err })
  }
  if (channel) {
    const broadcast = new VerdictBroadcast(table, opened, log)
    const open = channel
    broadcast.attach(open)
    receive = (message) => broadcast.receive(message)
    resubscribed = (again) => broadcast.resubscribed(again)
    for (const message of early.splice(0)) broadcast.receive(message)
    opened.closeWith(async () => {
      broadcast.close()
      await open.close()
    })
  }
  return opened
}

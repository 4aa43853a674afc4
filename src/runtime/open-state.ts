import { resolve } from 'node:path'
import type { ResolvedConfig } from '../config/index.js'
import { ConfigError } from '../errors.js'
import type { Logger } from '../log.js'
import { createBackend, loadSessionSecret, type StateBackend } from '../state/index.js'

/**
 * Opens the backend of `store` and `session` before any instance starts, so a store that cannot
 * work (an unwritable file, an unreachable Redis, a missing driver) stops `crashless run` at once
 * with the option to fix, instead of failing the first request that touches it.
 *
 * @throws ConfigError naming `state.path` (sqlite), `state.redisUrl` (redis) or `state.backend`.
 * @example
 * ```ts
 * const backend = await openState(config.state, log) // .crashless/state.db under the cwd by default
 * ```
 */
export async function openState(state: ResolvedConfig['state'], log: Logger): Promise<StateBackend> {
  const startedAt = performance.now()
  let backend: StateBackend
  try {
    switch (state.backend) {
      case 'memory':
        backend = await createBackend({ kind: 'memory' })
        break
      case 'sqlite':
        backend = await createBackend({ kind: 'sqlite', path: resolve(process.cwd(), state.path), synchronous: state.synchronous })
        break
      case 'redis':
        backend = await createBackend({ kind: 'redis', url: state.redisUrl, prefix: state.redisPrefix })
        break
    }
  } catch (err) {
    const message = (err as Error).message
    if (/cannot load (better-sqlite3|ioredis)/.test(message)) throw new ConfigError('state.backend', message, { cause: err })
    if (state.backend === 'sqlite') throw new ConfigError('state.path', message, { cause: err })
    if (state.backend === 'redis') throw new ConfigError('state.redisUrl', message, { cause: err })
    throw new ConfigError('state.backend', message, { cause: err })
  }
  const where = state.backend === 'sqlite' ? resolve(process.cwd(), state.path) : state.backend === 'redis' ? state.redisUrl.replace(/\/\/[^@/]*@/, '//***@') : 'memory'
  log.info({ event: 'state-open', backend: state.backend, where, ms: Math.round(performance.now() - startedAt) }, `store and session kept in ${where}`)
  return backend
}

/**
 * The keys that verify session cookies (the first signs), or null when sessions are off: the
 * configured `session.secret`, else one generated on first start and kept in the store.
 *
 * @throws ConfigError naming `session.secret` when the store cannot keep a generated one.
 * @example
 * ```ts
 * const secrets = await sessionSecrets(config.session, backend) // ['…'] or null
 * ```
 */
export async function sessionSecrets(session: ResolvedConfig['session'], backend: StateBackend): Promise<string[] | null> {
  if (!session.enabled) return null
  if (session.secret !== undefined) return typeof session.secret === 'string' ? [session.secret] : [...session.secret]
  try {
    return [await loadSessionSecret(backend)]
  } catch (err) {
    throw new ConfigError('session.secret', `none is set and one could not be kept in the store: ${(err as Error).message}`, { cause: err })
  }
}

import type { StateBackend } from './backend.js'
import { MemoryBackend, type MemoryBackendOptions } from './memory-backend.js'
import type { RedisBackend, RedisBackendOptions } from './redis-backend.js'
import type { SqliteBackend, SqliteBackendOptions } from './sqlite-backend.js'
import { StateError } from './state-error.js'

/** Which backend to create, and its options. */
export type BackendOptions =
  | ({ kind: 'memory' } & MemoryBackendOptions)
  | ({ kind: 'sqlite' } & SqliteBackendOptions)
  | ({ kind: 'redis' } & RedisBackendOptions)

/**
 * Creates a state backend. The sqlite and redis drivers are imported only when asked for, so a
 * runtime on the memory backend never loads a native addon or a Redis client. Rejects with a
 * `CRASHLESS_ERR_STATE` error naming the problem (unopenable file, unreachable Redis, bad option).
 *
 * @example
 * ```ts
 * const store = await createBackend({ kind: 'sqlite', path: '.crashless/state.db', synchronous: 'full' })
 * const shared = await createBackend({ kind: 'redis', url: 'redis://10.0.0.5:6379', prefix: 'shop:' })
 * ```
 */
export async function createBackend(options: { kind: 'memory' } & MemoryBackendOptions): Promise<MemoryBackend>
export async function createBackend(options: { kind: 'sqlite' } & SqliteBackendOptions): Promise<SqliteBackend>
export async function createBackend(options: { kind: 'redis' } & RedisBackendOptions): Promise<RedisBackend>
export async function createBackend(options: BackendOptions): Promise<StateBackend>
export async function createBackend(options: BackendOptions): Promise<StateBackend> {
  switch (options?.kind) {
    case 'memory':
      return new MemoryBackend(options)
    case 'sqlite': {
      const [{ default: Database }, { SqliteBackend }] = await Promise.all([loadDriver('better-sqlite3', () => import('better-sqlite3')), import('./sqlite-backend.js')])
      return SqliteBackend.open(Database, options)
    }
    case 'redis': {
      const [{ Redis }, { RedisBackend }] = await Promise.all([loadDriver('ioredis', () => import('ioredis')), import('./redis-backend.js')])
      return RedisBackend.connect(Redis, options)
    }
    default:
      throw new StateError(`unknown state backend kind ${JSON.stringify((options as { kind?: unknown } | undefined)?.kind)} (expected memory, sqlite or redis)`)
  }
}

async function loadDriver<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    throw new StateError(`cannot load ${name} for the state store: ${(err as Error).message}`, { cause: err })
  }
}

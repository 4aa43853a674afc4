import type { ResolvedConfig } from './types.js'

/**
 * Bytes of committed store entries each instance may cache (`state.readCacheMb`), or 0 when a
 * cache could serve stale reads: an instance's cache is invalidated only by commits of its own
 * runtime, so it is off whenever another writer shares the store, i.e. `redis` (other runtimes,
 * other nodes) and `sqlite` with `runtimes` above 1 (one file, several runtimes). The `memory`
 * backend is each runtime's own.
 *
 * @example
 * ```ts
 * readCacheBytes(resolveConfig({ entry: 'app.js' }, opts)) // 16777216
 * readCacheBytes(resolveConfig({ entry: 'app.js', runtimes: 2 }, opts)) // 0
 * ```
 */
export function readCacheBytes(config: ResolvedConfig): number {
  const { backend, readCacheMb } = config.state
  if (backend === 'redis') return 0
  if (backend === 'sqlite' && config.runtimes > 1) return 0
  return readCacheMb * 1024 * 1024
}

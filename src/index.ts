/**
 * crashless: a recovery-oriented application server for Node.js.
 *
 * @example
 * ```ts
 * // crashless.config.ts
 * import { defineConfig } from 'crashless'
 * export default defineConfig({ entry: './app.ts', port: 8080, timeouts: { leaseMs: 500 } })
 * ```
 */
export { defineConfig, loadConfig, type CrashlessConfig, type ResolvedConfig, type EntryStyle } from './config/index.js'
export { createRuntime, type Runtime } from './runtime/index.js'
export { createLogger } from './log.js'
export { CrashlessError, ConfigError, UsageError, AppLoadError, hasErrorCode, type CrashlessErrorCode } from './errors.js'
/**
 * Per-request transactional stores, usable inside a request handler:
 *
 * @example
 * ```ts
 * import { store } from 'crashless'
 * const count = ((await store.get<number>('count')) ?? 0) + 1
 * await store.set('count', count) // committed only if the request succeeds
 * ```
 */
export { store, session, type Session, type Store, type SetOptions, type StoreEntry, type StoreListOptions, type CrashlessContext, type Storable } from './host/index.js'

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

/**
 * `defineConfig` exists only for editors and the type checker: wrapping the object in it
 * gives completion and type errors in `crashless.config.ts` without the user having to
 * import and spell out the `CrashlessConfig` type. It does no validation, because the
 * config is validated when it is loaded, with messages that name the file it came from.
 */

import type { CrashlessConfig } from './types.js'

/**
 * Returns `config` unchanged; use it as the default export of `crashless.config.ts` so the
 * options are type-checked and autocompleted.
 *
 * Validation happens later, in {@link loadConfig}, so that errors can name the file and the
 * option (`limits.queue: expected a positive integer, got -1`).
 *
 * @example
 * ```ts
 * // crashless.config.ts
 * import { defineConfig } from 'crashless'
 *
 * export default defineConfig({
 *   entry: './src/server.ts',
 *   port: 8080,
 *   limits: { concurrency: 32 },
 *   timeouts: { requestMs: 5_000 },
 * })
 * ```
 */
export function defineConfig(config: CrashlessConfig): CrashlessConfig {
  return config
}

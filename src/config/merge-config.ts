/**
 * Layering of configs: defaults, then the config file, then command-line flags. Each layer
 * only says what it wants changed, so the merge is per option, not per section: a flag
 * setting `limits.queue` must not wipe the file's `limits.concurrency`.
 */

import type { CrashlessConfig } from './types.js'

/**
 * Deep-merges `over` onto `base` and returns a new config; neither input is modified and
 * the result shares no objects or arrays with them.
 *
 * - Nested sections (`limits`, `timeouts`, ...) merge option by option.
 * - Arrays (`replay.methods`) replace rather than concatenate: a user listing methods means
 *   "exactly these", not "these as well".
 * - `undefined` never overrides: a command-line parser reports flags that were not given as
 *   `undefined`, and those must leave the file's values alone.
 *
 * @example
 * ```ts
 * mergeConfig(
 *   { port: 3000, limits: { queue: 10, concurrency: 8 } },
 *   { port: undefined, limits: { queue: 99 } },
 * )
 * // => { port: 3000, limits: { queue: 99, concurrency: 8 } }
 * ```
 */
export function mergeConfig(base: CrashlessConfig, over: CrashlessConfig): CrashlessConfig {
  return mergeValue(base, over) as CrashlessConfig
}

function mergeValue(base: unknown, over: unknown): unknown {
  if (over === undefined) return copy(base)
  if (!isPlainObject(base) || !isPlainObject(over)) return copy(over)
  const out: Record<string, unknown> = {}
  for (const key of new Set([...Object.keys(base), ...Object.keys(over)])) {
    const value = mergeValue(base[key], over[key])
    if (value !== undefined) out[key] = value
  }
  return out
}

/**
 * Copies plain objects and arrays so the merged config can be changed at run time (a tweak
 * raising `heapMb`, say) without reaching back into the frozen defaults or the user's object.
 */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy)
  if (!isPlainObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    if (inner !== undefined) out[key] = copy(inner)
  }
  return out
}

/**
 * True for `{...}` literals and null-prototype objects (ES module namespaces): the shapes a
 * config section can take. Class instances, dates and the like are values, not sections.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

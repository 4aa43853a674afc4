/**
 * Validation of a config from an untrusted source (a user's file, command-line flags, an
 * API caller). Hand-written rather than a schema library so the messages can be exactly
 * what a user needs: the option's full path, what was expected, what was found, and where
 * it came from, plus a suggestion when an option name is misspelt.
 */

import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '../errors.js'
import { MAX_TIMER_MS, boolean, cookieName, cookiePath, headerName, integer, integerOrAuto, methodList, oneOf, probePath, redisUrl, secret, sessionSecret, text, describeValue, type Check, signatureSpec, tweakList, redactSpec } from './checks.js'
import { checkAdminExposure } from './check-admin.js'
import { checkSessionCookie } from './check-session.js'
import { anchorComponentEntries, checkComponentTree, components, groups } from './check-components.js'
import { withDefaults } from './defaults.js'
import { closest } from './did-you-mean.js'
import { MAX_RUNTIMES } from './runtime-count.js'
import { isPlainObject } from './merge-config.js'
import type { CrashlessConfig, ResolvedConfig } from './types.js'

/** One check per option; the mapped type makes the compiler reject a missing or extra option. */
type Schema = {
  // Sections keyed by the user's own names (components, groups) are checked whole, by one Check.
  [K in keyof CrashlessConfig]-?: K extends 'components' | 'groups'
    ? Check
    : NonNullable<CrashlessConfig[K]> extends string | number | unknown[]
    ? Check
    : { [S in keyof NonNullable<CrashlessConfig[K]>]-?: Check }
}

const positive = integer({ min: 1 })
const timer = integer({ min: 1, max: MAX_TIMER_MS })
const factor = integer({ min: 1, max: 64 })

const schema: Schema = {
  entry: text,
  port: integer({ min: 0, max: 65535, expected: 'a port number from 0 to 65535 (0 picks a free port)' }),
  host: text,
  instances: positive,
  spares: integer({ min: 0 }),
  style: oneOf(['auto', 'fetch', 'node', 'listen']),
  isolation: oneOf(['worker', 'process']),
  runtimes: integerOrAuto({ min: 1, max: MAX_RUNTIMES }),
  limits: {
    maxBodyBytes: integer({ min: 0 }),
    // Up to 1 TiB: bytes must stay a safe integer, and more is surely a unit mistake.
    bufferedBodyMb: integer({ min: 1, max: 1024 * 1024 }),
    concurrency: positive,
    queue: positive,
    heapMb: positive,
    stackMb: positive,
    // 0 is meaningful: no cap (external memory is still counted for the RSS watch).
    externalMb: integer({ min: 0, max: 1024 * 1024 }),
    // 0 is meaningful: the cgroup's limit only.
    rssMb: integer({ min: 0, max: 1024 * 1024 }),
  },
  timeouts: {
    requestMs: timer,
    // Below ~50 ms a busy but healthy event loop (a GC pause, a big JSON.parse) would be
    // mistaken for a hang and its instance killed.
    leaseMs: integer({ min: 50, max: MAX_TIMER_MS }),
    startMs: timer,
    // 0 is meaningful: stop at once without waiting for in-flight requests.
    drainMs: integer({ min: 0, max: MAX_TIMER_MS }),
    // No 0 for "never": a connection that never finishes its request must not hold memory forever.
    headersMs: timer,
    bodyMs: timer,
  },
  replay: {
    maxAttempts: positive,
    methods: methodList,
    idempotencyKeyHeader: headerName,
    // A TTL, not a timer: a record may well be kept for weeks.
    idempotencyTtlMs: positive,
  },
  immunity: {
    threshold: positive,
    quarantineMs: timer,
    store: oneOf(['sqlite', 'redis', 'memory']),
    path: text,
    signature: signatureSpec,
    maxCrashes: positive,
    bulkhead: integer({ min: 0 }),
  },
  recovery: {
    ladder: tweakList,
    sacrificial: positive,
    queue: integer({ min: 0 }),
    heapFactor: factor,
    stackFactor: factor,
    timeFactor: factor,
    budgetMs: timer,
    intensity: positive,
    periodMs: timer,
    runtimeIntensity: positive,
    runtimePeriodMs: timer,
  },
  components,
  groups,
  outliers: {
    // 0 is meaningful: the rule is off.
    consecutive5xx: integer({ min: 0 }),
    windowMs: integer({ min: 100, max: MAX_TIMER_MS }),
    minRequests: integer({ min: 0 }),
    ratePercent: integer({ min: 1, max: 100, expected: 'a percentage from 1 to 100' }),
    rateFactor: factor,
    // 0 is meaningful: no ejections at all.
    intensity: integer({ min: 0 }),
    periodMs: timer,
    suspects: integer({ min: 0, max: 64 }),
  },
  rejuvenate: {
    heapPercent: integer({ min: 10, max: 99, expected: 'a percentage from 10 to 99' }),
    // 0 is meaningful: never.
    maxAgeMs: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    maxRequests: integer({ min: 0 }),
  },
  keeper: {
    standby: boolean,
    // Below ~500 ms a long GC pause of a loaded main thread would pass for a dead runtime.
    leaseMs: integer({ min: 500, max: MAX_TIMER_MS }),
    intensity: positive,
    periodMs: timer,
  },
  admin: {
    enabled: boolean,
    port: integer({ min: 0, max: 65535, expected: 'a port number from 0 to 65535 (0 picks a free port)' }),
    host: text,
    token: secret,
  },
  state: {
    backend: oneOf(['sqlite', 'memory', 'redis']),
    path: text,
    synchronous: oneOf(['off', 'normal', 'full', 'extra']),
    redisUrl: redisUrl,
    redisPrefix: text,
    maxCommitRetries: integer({ min: 0, max: 100 }),
    readCacheMb: integer({ min: 0, max: 4096 }),
  },
  session: {
    enabled: boolean,
    cookieName,
    secret: sessionSecret,
    ttlMs: positive,
    secure: boolean,
    sameSite: oneOf(['lax', 'strict', 'none']),
    path: cookiePath,
  },
  incidents: {
    dir: text,
    maxCount: positive,
    maxBytes: integer({ min: 1024, max: Number.MAX_SAFE_INTEGER }),
    maxBodyBytes: integer({ min: 0, max: 64 * 1024 * 1024 }),
    record: boolean,
    redact: redactSpec,
  },
  probes: {
    path: probePath,
  },
  log: {
    level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    format: oneOf(['auto', 'pretty', 'json']),
  },
}

/** Every option's full path, e.g. `timeouts.leaseMs`, for suggestions across sections. */
const ALL_PATHS = Object.entries(schema).flatMap(([key, node]) =>
  typeof node === 'function' ? [key] : [key, ...Object.keys(node).map((inner) => `${key}.${inner}`)],
)

/**
 * Checks `input` option by option and returns it normalized (methods upper-cased, header
 * lower-cased, `undefined` options dropped), without applying defaults or resolving
 * `entry`, so several partial layers can be validated separately and then merged.
 *
 * @throws ConfigError naming the first bad option, e.g.
 *   `invalid config: limits.queue: expected a positive integer, got -1 (from crashless.config.ts)`
 * @example
 * ```ts
 * validateConfig({ replay: { methods: ['get'] } }, 'command line')
 * // => { replay: { methods: ['GET'] } }
 * ```
 */
export function validateConfig(input: unknown, source: string): CrashlessConfig {
  if (!isPlainObject(input)) {
    throw new ConfigError(source, `expected a config object, got ${describeValue(input)}`)
  }
  return validateObject(input, schema, '', source) as CrashlessConfig
}

function validateObject(
  input: Record<string, unknown>,
  shape: Record<string, Check | Record<string, Check>>,
  prefix: string,
  source: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(input)) {
    const path = prefix + key
    const node = Object.hasOwn(shape, key) ? shape[key] : undefined
    if (node === undefined) throw unknownOption(path, Object.keys(shape), prefix, source)
    // Absent and undefined are the same: a flag that was not given must not be an error.
    if (value === undefined) continue
    if (typeof node === 'function') {
      const result = node(value)
      if (!result.ok) {
        const got = describeValue(result.got)
        throw new ConfigError(path + (result.at ?? ''), `expected ${result.expected}, got ${got} (from ${source})`)
      }
      out[key] = result.value
    } else if (isPlainObject(value)) {
      out[key] = validateObject(value, node, `${path}.`, source)
    } else {
      throw new ConfigError(path, `expected an object, got ${describeValue(value)} (from ${source})`)
    }
  }
  return out
}

/**
 * A misspelling is most likely of a sibling option; failing that, of the same option in the
 * wrong section (`leaseMs` at the top level, `heapMb` under `timeouts`).
 */
function unknownOption(path: string, siblings: string[], prefix: string, source: string): ConfigError {
  const key = path.slice(prefix.length)
  const sibling = closest(key, siblings)
  const elsewhere = sibling === undefined ? findElsewhere(key) : undefined
  const suggestion = sibling !== undefined ? prefix + sibling : elsewhere
  const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`
  return new ConfigError(path, `unknown option${hint} (from ${source})`)
}

function findElsewhere(key: string): string | undefined {
  const leaves = ALL_PATHS.filter((p) => p.includes('.'))
  const leaf = closest(key, leaves.map((p) => p.slice(p.indexOf('.') + 1)))
  return leaf === undefined ? undefined : leaves.find((p) => p.endsWith(`.${leaf}`))
}

/**
 * Makes a validated layer's `entry` absolute against `baseDir`: the config file's directory
 * for a file, the working directory for flags. Done per layer, before merging, because once
 * merged nobody can tell which directory a relative path was meant against.
 */
export function anchorEntry(config: CrashlessConfig, baseDir: string): CrashlessConfig {
  config = anchorComponentEntries(config, baseDir)
  if (config.entry === undefined) return config
  const entry = config.entry.startsWith('file:') ? fileURLToPath(config.entry) : config.entry
  return { ...config, entry: isAbsolute(entry) ? entry : resolve(baseDir, entry) }
}

/**
 * Applies defaults to a validated, anchored config, insisting on `entry`, the one option
 * without a default. `where` tells the user where an entry could have been given.
 */
export function completeConfig(config: CrashlessConfig, where: string): ResolvedConfig {
  const { entry } = config
  if (entry === undefined) {
    throw new ConfigError('entry', `missing: name the app module to serve, e.g. entry: './src/app.ts' (${where})`)
  }
  return checkComponentTree(checkSessionCookie(checkAdminExposure(withDefaults({ ...config, entry }))))
}

/**
 * Validates an untrusted config object and resolves it: defaults applied, `entry` made
 * absolute against `baseDir`. `source` names where the object came from (a file path,
 * `'command line'`) and appears in every error message.
 *
 * @throws ConfigError whose `path` is the offending option, e.g. `timeouts.leasMs`
 *   (`unknown option (did you mean timeouts.leaseMs?)`), or `entry` when it is missing.
 * @example
 * ```ts
 * const config = resolveConfig({ entry: './app.ts', limits: { queue: 100 } }, {
 *   baseDir: '/srv/site',
 *   source: '/srv/site/crashless.config.ts',
 * })
 * config.entry        // '/srv/site/app.ts'
 * config.limits.queue // 100
 * ```
 */
export function resolveConfig(input: unknown, opts: { baseDir: string; source: string }): ResolvedConfig {
  return completeConfig(anchorEntry(validateConfig(input, opts.source), opts.baseDir), `not set in ${opts.source}`)
}

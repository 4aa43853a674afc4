/**
 * The values crashless uses for every option the user leaves out, and the one place that
 * fills them in. Kept apart from validation so the documentation in `types.ts` and these
 * numbers can be checked against each other at a glance.
 */

import { availableParallelism } from 'node:os'
import { mergeConfig } from './merge-config.js'
import { instancesPerRuntime, runtimeCount } from './runtime-count.js'
import type { CrashlessConfig, ResolvedConfig } from './types.js'

/** A type whose nested objects and arrays are read-only too. */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T

/** Every resolved option except `entry`, which has no sensible default. */
export type ConfigDefaults = DeepReadonly<Omit<ResolvedConfig, 'entry'>>

/**
 * RFC 9110 §9.2.2: re-running these has the same effect as running them once, so a request
 * that died with its instance can be re-served without the client noticing.
 */
const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']

/**
 * The default value of every option but `entry`. Frozen all the way down: it is shared by
 * every resolved config, so a caller mutating it would silently change everyone's defaults.
 *
 * @example
 * ```ts
 * import { defaults } from 'crashless'
 * console.log(defaults.timeouts.leaseMs) // 1000
 * ```
 */
export const defaults: ConfigDefaults = deepFreeze({
  // Undefined on purpose: the app's own listen() call decides, else 3000 (see types.ts).
  port: undefined,
  host: undefined,
  // One per core is what PM2 cluster mode uses, and the fault-free budget is measured against it.
  instances: availableParallelism(),
  spares: 1,
  style: 'auto',
  // Threads: a request crosses to a worker several times cheaper than to a process.
  isolation: 'worker',
  // One runtime: the keeper, a runtime and its warm standby. More pay off once one dispatcher
  // thread is the bottleneck (README, "Sizing").
  runtimes: 1,
  limits: {
    maxBodyBytes: 10 * 1024 * 1024,
    // 25 bodies of the largest default size at once, plenty for ordinary upload traffic; it is
    // what the runtime's memory may grow by for bodies, so it is sized against a container's
    // memory, beside the instances' heaps.
    bufferedBodyMb: 256,
    concurrency: 64,
    queue: 1024,
    heapMb: 512,
    stackMb: 4,
    // As much again as the heap: room for an app that streams files or holds image buffers,
    // and still far below the gigabytes a decompression bomb inflates to.
    externalMb: 512,
    // Off outside a container: with no cgroup limit there is no line the kernel draws that
    // crashless could know about. In one, its limit applies without configuration.
    rssMb: 0,
  },
  timeouts: {
    requestMs: 30_000,
    leaseMs: 1_000,
    startMs: 10_000,
    drainMs: 10_000,
    // A request head is one or two packets; Node's own default (60 s) lets a slow-head client
    // hold a connection for a minute.
    headersMs: 10_000,
    // The largest default body (10 MiB) down to ~350 KiB/s (a 3 Mbit/s uplink). A total, not an
    // idle timeout: a client trickling a byte a second must not keep its share of the budget.
    bodyMs: 30_000,
  },
  replay: {
    maxAttempts: 3,
    methods: IDEMPOTENT_METHODS,
    idempotencyKeyHeader: 'idempotency-key',
    // Long enough for any client's retry policy (Stripe keeps keys 24 h too).
    idempotencyTtlMs: 86_400_000,
  },
  immunity: {
    // Two strikes: one failure can be bad luck (a race, a neighbour's leak); two with the
    // same signature is a pattern worth blocking.
    threshold: 2,
    quarantineMs: 600_000,
    // Survives restarts: poison learned before a restart is still refused after it.
    store: 'sqlite',
    path: '.crashless/immunity.db',
    signature: { query: 'all', body: true },
    // The first failure plus two tweaked re-runs: enough for the ladder to try the two likeliest
    // cures of any kind of failure, and still a small fixed price for true poison.
    maxCrashes: 3,
    // Five distinct failing variants of one route within the window is an attack or a broken
    // route, not bad luck.
    bulkhead: 5,
  },
  recovery: {
    ladder: ['fresh', 'exclusive', 'heap', 'stack', 'deadline', 'reorder'],
    sacrificial: 2,
    queue: 256,
    heapFactor: 4,
    stackFactor: 4,
    timeFactor: 3,
    budgetMs: 60_000,
    // Instances lost with nobody to blame: a few are a GC pause too long or a native fault; ten a
    // minute is a component in trouble, which fresh instances all at once may cure.
    intensity: 10,
    periodMs: 60_000,
    // OTP's advice again: a component or group rebooted four times in a minute did not get
    // better; a fresh runtime (the keeper's standby) is the next thing to try.
    runtimeIntensity: 3,
    runtimePeriodMs: 60_000,
  },
  components: {},
  groups: {},
  outliers: {
    // Envoy's consecutive_5xx default.
    consecutive5xx: 5,
    windowMs: 10_000,
    // Fewer answers than this in a window say too little about a rate.
    minRequests: 20,
    ratePercent: 20,
    rateFactor: 5,
    // A few ejections a minute cure an instance gone bad; more mean the answers are the app's.
    intensity: 3,
    periodMs: 60_000,
    suspects: 8,
  },
  rejuvenate: {
    // A quarter of the heap left: room for what the requests it still holds allocate while they
    // finish, and for V8's own headroom before it would fail (or abort the process).
    heapPercent: 75,
    maxAgeMs: 0,
    maxRequests: 0,
  },
  keeper: {
    standby: true,
    // A main thread blocked this long is not a GC pause; three missed beats at least.
    leaseMs: 3_000,
    // OTP's advice: bursts pass, a loop does not. 5 in a minute is a runtime that cannot live.
    intensity: 5,
    periodMs: 60_000,
  },
  admin: {
    enabled: true,
    port: 9300,
    // Loopback only unless the user says otherwise (and then a token is required).
    host: '127.0.0.1',
  },
  state: {
    // Embedded and durable across restarts without any server to run.
    backend: 'sqlite',
    path: '.crashless/state.db',
    // Survives kill -9 of the runtime (the OS keeps the WAL pages); 'full' adds power loss.
    synchronous: 'normal',
    redisUrl: 'redis://127.0.0.1:6379',
    redisPrefix: 'crashless:',
    // Enough for ordinary contention: re-runs after a conflict are serialized per key, so each
    // one is likely to win.
    maxCommitRetries: 5,
    // A few thousand small entries per instance: enough for the hot keys of most apps.
    readCacheMb: 16,
  },
  session: {
    // Off unless the config has a `session` section (see withDefaults).
    enabled: false,
    cookieName: 'crashless.sid',
    ttlMs: 86_400_000,
    // Plain HTTP works out of the box (local development); behind TLS set secure: true.
    secure: false,
    sameSite: 'lax',
    path: '/',
  },
  // Off: the service's paths are the app's unless the user gives crashless one.
  incidents: {
    dir: '.crashless/incidents',
    // A thousand incidents, identical failures counted in one, is weeks of a bad deploy; 64 MiB
    // keeps a flood from filling a small disk.
    maxCount: 1_000,
    maxBytes: 64 * 1024 * 1024,
    // Enough for a JSON API's request; an upload's bytes rarely matter to reproduce its crash.
    maxBodyBytes: 64 * 1024,
    record: true,
    redact: { headers: [], bodyFields: [], env: [] },
  },
  probes: {},
  log: {
    level: 'info',
    // Pretty on a terminal, JSON for pipes and files (log collectors, the tests).
    format: 'auto',
  },
} satisfies Omit<ResolvedConfig, 'entry'>)

/**
 * Fills every option missing from an already validated `config` with its default. The
 * result shares no objects or arrays with `defaults` or `config`, so the runtime may adjust
 * it (e.g. a tweak raising `heapMb`) without touching either.
 *
 * @example
 * ```ts
 * const resolved = withDefaults({ entry: '/srv/app.ts', limits: { queue: 10 } })
 * resolved.limits.queue       // 10
 * resolved.limits.concurrency // 64
 * ```
 */
export function withDefaults(config: CrashlessConfig & { entry: string }): ResolvedConfig {
  // A merge rather than `?? default` per option keeps this correct when an option is added:
  // it only has to be added to `defaults` (which `satisfies` forces) to get its default.
  const merged = mergeConfig(defaults as CrashlessConfig, config) as ResolvedConfig
  // Writing a `session` section is asking for sessions: `session: {}` turns them on.
  merged.session.enabled = config.session?.enabled ?? config.session !== undefined
  // 'auto' becomes a count here, against this machine's cores; so does the instances default
  // when the cores are shared among several runtimes.
  const cores = availableParallelism()
  merged.runtimes = runtimeCount(config.runtimes ?? defaults.runtimes, cores)
  if (config.instances === undefined && merged.runtimes > 1) merged.instances = instancesPerRuntime(merged.runtimes, cores)
  // port and host default to undefined, which the merge drops; the resolved shape has them.
  return { ...merged, entry: config.entry, port: merged.port, host: merged.host }
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value as DeepReadonly<T>
}

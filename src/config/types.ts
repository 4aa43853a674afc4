/**
 * The shape of a crashless configuration, as written in `crashless.config.ts|js` with
 * {@link defineConfig}, and the fully-resolved form the runtime uses.
 */

import type { SignatureKey, Tweak } from '../immunity/index.js'
import type { ComponentOptions, GroupOptions, OutlierOptions } from './component-types.js'

/** What instances run in: worker threads of the runtime, or child processes. */
export type Isolation = 'worker' | 'process'

/** How the app entry is hosted. `auto` detects it (see README, "Entry styles"). */
export type EntryStyle = 'auto' | 'fetch' | 'node' | 'listen'

/** Options a user may write. Every field is optional; defaults are in `defaults.ts`. */
export interface CrashlessConfig {
  /** The app entry module, relative to the config file (or the working directory). */
  entry?: string
  /** Port to serve on. Default: the port the app asked for in listen(), else 3000. */
  port?: number
  /** Host to bind. Default: the host the app asked for, else Node's default (all interfaces). */
  host?: string
  /** Instances (worker threads) serving requests. Default: one per core. */
  instances?: number
  /** Warm spares kept started and idle, so a reboot is a swap. Default: 1. */
  spares?: number
  /** How the entry is hosted. Default: `auto`. */
  style?: EntryStyle
  /**
   * What an instance runs in: `worker` threads of the runtime process, or child `process`es,
   * for apps whose native code (addons) may segfault or abort: in a worker thread that takes
   * the whole runtime down, in a child process only that instance. Everything else behaves the
   * same; a request costs more CPU in a child process (README, "Isolation"). Default: `worker`.
   */
  isolation?: Isolation
  /**
   * Runtime processes serving at once under the keeper, each with its own dispatcher (one main
   * thread: its CPU per request caps one runtime's throughput), its own `instances` and
   * `spares`; they share the listening socket, the state store and the immunity table (a poison
   * learned by one is refused by all). `'auto'`: half the cores, at least 1 (README, "Sizing").
   * With `runtimes` above 1 and `instances` unset, each runtime gets its share of the cores as
   * instances. `crashless run --no-keeper` runs one runtime only. Default: 1.
   */
  runtimes?: number | 'auto'
  limits?: {
    /** Largest request body accepted, in bytes (larger: 413). Default: 10 MiB. */
    maxBodyBytes?: number
    /**
     * Request bodies held in memory at once across all connections, in MiB (bodies are buffered
     * whole, and kept for re-serving, until their response is sent). A body that does not fit
     * waits, unread, for room (bounded by `timeouts.bodyMs`); one larger than the whole budget
     * gets 413. Default: 256.
     */
    bufferedBodyMb?: number
    /** Requests one instance runs at once. Default: 64. */
    concurrency?: number
    /** Requests waiting for an instance before new ones get 503. Default: 1024. */
    queue?: number
    /** Old-generation heap cap of one instance, in MiB. Default: 512. */
    heapMb?: number
    /** Stack size of one instance, in MiB. Default: 4. */
    stackMb?: number
    /**
     * Memory one instance may hold outside its V8 heap (Buffers, ArrayBuffers, external strings),
     * in MiB; `heapMb` does not cover it. Past `rejuvenate.heapPercent` of it the instance is
     * rejuvenated; past it, an instance still running requests is ended
     * (CRASHLESS_ERR_EXTERNAL_LIMIT) and what it held is isolated. 0: no cap. Default: 512.
     */
    externalMb?: number
    /**
     * Resident memory of the whole runtime process, in MiB. When the process is in a cgroup with
     * a memory limit (a container), that limit applies, or the smaller of both when this is set
     * too. At 90% of it the instance holding the most memory is rejuvenated; at 95% it is ended
     * (CRASHLESS_ERR_RSS_LIMIT), so the kernel's OOM killer never takes the runtime for one
     * request. 0: only the cgroup's limit, if any. Default: 0.
     */
    rssMb?: number
  }
  timeouts?: {
    /** A request that has not completed by then gets 504. Default: 30000. */
    requestMs?: number
    /** An instance whose event loop stalls this long is replaced. Default: 1000. */
    leaseMs?: number
    /** How long an instance may take to load the app. Default: 10000. */
    startMs?: number
    /** How long SIGTERM/SIGINT waits for in-flight requests. Default: 10000. */
    drainMs?: number
    /** A request head (request line and headers) not received within this gets 408. Default: 10000. */
    headersMs?: number
    /**
     * A request body not received within this, from the end of its head (time spent waiting for
     * room in `limits.bufferedBodyMb` included), gets 408 and its connection is closed. Default: 30000.
     */
    bodyMs?: number
  }
  replay?: {
    /** Attempts in all (first run included) for a replayable request. Default: 3. */
    maxAttempts?: number
    /** Methods re-run after an instance is lost. Default: RFC 9110 idempotent methods. */
    methods?: string[]
    /**
     * Header whose presence makes any request replayable and, on a method that is not safe
     * (not GET/HEAD/OPTIONS/TRACE), deduplicated: a retry of a committed request gets the
     * recorded response. Default: `idempotency-key`.
     */
    idempotencyKeyHeader?: string
    /** How long the response of a request with an idempotency key is kept for its retries, in ms. Default: 86400000 (24 h). */
    idempotencyTtlMs?: number
  }
  immunity?: {
    /** Failures attributed to requests with one signature before it is quarantined. Default: 2. */
    threshold?: number
    /** How long a quarantine lasts (and failures are remembered), in ms. Default: 600000 (10 min). */
    quarantineMs?: number
    /**
     * Where the table is kept across restarts: `sqlite` (a file, see `path`), `redis` (the
     * server of `state.redisUrl`, shared by a cluster) or `memory` (forgotten on exit). Default: `sqlite`.
     */
    store?: 'sqlite' | 'redis' | 'memory'
    /** The SQLite file of the immunity table, relative to the working directory. Default: `.crashless/immunity.db`. */
    path?: string
    /**
     * What a request signature is made of, besides method and normalised path (never headers):
     * `query` — `all` parameters (default), `none`, or only the named ones; `body` — whether the
     * body's hash counts (default true). Broader signatures quarantine more (one crash blocks a
     * whole route with `query: 'none', body: false`); narrower ones are easier for an attacker
     * to vary (the route bulkhead, `bulkhead`, is the defence there). `key` replaces the
     * composition with your own function of those parts (pure and fast: it runs in the dispatcher).
     */
    signature?: { query?: 'all' | 'none' | string[]; body?: boolean; key?: SignatureKey }
    /**
     * Instances one signature may cost (lost, or retired after a suppressed crash) before it is
     * quarantined, counting the recovery ladder's sacrificial ones. Default: 3.
     */
    maxCrashes?: number
    /**
     * Distinct failing signatures on one route (method and path) within `quarantineMs` that make
     * the whole route run on sacrificial instances, apart from every other route. 0 never does. Default: 5.
     */
    bulkhead?: number
  }
  /**
   * The recovery ladder (DESIGN.md level 2): a replayable request that failed is re-run on
   * sacrificial instances under tweaked environments until one cures it; what cured it is
   * remembered for its signature. When none does, the signature is quarantined.
   */
  recovery?: {
    /**
     * The tweaks to try, in order: `fresh` (a new instance), `exclusive` (alone on its instance),
     * `heap` (heapMb x heapFactor), `stack` (stackMb x stackFactor), `deadline` (requestMs and
     * leaseMs x timeFactor), `reorder` (alone, after the requests it ran beside). Only those that
     * can cure the kind of failure are tried. [] turns the ladder off. Default: all, in that order.
     */
    ladder?: Tweak[]
    /** Sacrificial instances at most (they never carry ordinary traffic). Default: 2. */
    sacrificial?: number
    /** Requests waiting for a sacrificial instance at most; more get 503. Default: 256. */
    queue?: number
    /** Default: 4. */
    heapFactor?: number
    /** Default: 4. */
    stackFactor?: number
    /** Default: 3. */
    timeFactor?: number
    /** How long one request may spend on the ladder in all, in ms. Default: 60000. */
    budgetMs?: number
    /**
     * Restart intensity, instance level (OTP's), for every component that sets none: more than
     * this many of a component's serving instances lost with no request to blame within
     * `periodMs` reboot the whole component (README, "Components"). Default: 10.
     */
    intensity?: number
    /** The window of `intensity`, ms. Default: 60000. */
    periodMs?: number
    /**
     * Restart intensity, runtime level: more than this many reboots of groups (and of
     * components in no group) within `runtimePeriodMs` escalate to the keeper, which swaps in
     * its standby runtime (the old one drains). Default: 3.
     */
    runtimeIntensity?: number
    /** The window of `runtimeIntensity`, ms. Default: 60000. */
    runtimePeriodMs?: number
  }
  /**
   * Parts of the app by route prefix, each with instances of its own, rebooted alone: a fault
   * in one leaves the others untouched (README, "Components"). Requests outside every prefix go
   * to the `default` component, which takes `entry`, `instances`, `spares` and `limits`, and
   * may be tuned as `components.default` (without a prefix). Default: none (all is `default`).
   */
  components?: Record<string, ComponentOptions>
  /** Restart groups, named by `components.<name>.group`. Default: none. */
  groups?: Record<string, GroupOptions>
  /** Ejection of instances answering 5xx far more than their siblings. */
  outliers?: OutlierOptions
  /** The admin HTTP endpoint (`crashless immunity ls|release`, health). Never runs app code. */
  admin?: {
    /** Default: true. */
    enabled?: boolean
    /** Default: 9300. 0 picks a free port (logged in `admin-listening`). */
    port?: number
    /** Default: `127.0.0.1`. Any non-loopback host requires `token`. */
    host?: string
    /** Bearer token every admin request must carry when set; required off loopback. At least 16 characters. */
    token?: string
  }
  state?: {
    /** Where `store` and `session` live. Default: `sqlite`. */
    backend?: 'sqlite' | 'memory' | 'redis'
    /** The sqlite database file, relative to the working directory. Default: `.crashless/state.db`. */
    path?: string
    /** sqlite `synchronous`: `normal` survives kill -9, `full` also power loss. Default: `normal`. */
    synchronous?: 'off' | 'normal' | 'full' | 'extra'
    /** The redis backend's server. Default: `redis://127.0.0.1:6379`. */
    redisUrl?: string
    /** Prefix of every Redis key the store writes. Default: `crashless:`. */
    redisPrefix?: string
    /** Times a request whose reads changed before it committed is re-run, then 503. Default: 5. */
    maxCommitRetries?: number
    /**
     * MiB of committed entries each instance keeps to read without a round trip to the
     * dispatcher; reads from it are still validated at commit. Default: 16; 0 turns it off.
     * Always off with `backend: 'redis'`, which other processes may write.
     */
    readCacheMb?: number
  }
  /**
   * Cookie sessions for `session` / `ctx.session`. On when this section is present (`session: {}`
   * takes every default), unless `enabled: false`.
   */
  session?: {
    /** Default: true when the section is present, else false. */
    enabled?: boolean
    /** Name of the session cookie. Default: `crashless.sid`. */
    cookieName?: string
    /**
     * HMAC-SHA256 key signing the cookie, at least 32 characters; a list rotates keys (the first
     * signs, every one verifies). Default: a random key made at first start and kept in the store.
     */
    secret?: string | string[]
    /** A session expires this long after it was last written (or refreshed by a read). Default: 86400000 (24 h). */
    ttlMs?: number
    /** Send the cookie over HTTPS only (`Secure`). Default: false (set true behind TLS). */
    secure?: boolean
    /** The cookie's `SameSite`. Default: `lax`; `none` requires `secure: true`. */
    sameSite?: 'lax' | 'strict' | 'none'
    /** The cookie's `Path`. Default: `/`. */
    path?: string
  }
  /**
   * Proactive rejuvenation (Microreboot): an instance is replaced before it fails, at a moment
   * no request is lost. It takes no new requests, a spare takes over at once, what it holds
   * finishes, then it exits. Each reason is checked on every supervisor tick.
   */
  rejuvenate?: {
    /**
     * Replace an instance whose heap after a garbage collection passes this share of
     * `limits.heapMb`, long before V8's own limit (which may abort the whole process rather
     * than end the worker: nodejs/node#47224). 10 to 99. Default: 75.
     */
    heapPercent?: number
    /** Replace an instance this long after it started serving; 0 never does. Default: 0. */
    maxAgeMs?: number
    /** Replace an instance once it has been given this many requests; 0 never does. Default: 0. */
    maxRequests?: number
  }
  /**
   * The keeper (Otherworld's crash kernel): the outer process of `crashless run` that owns the
   * listening sockets and replaces a runtime process that dies. Read when the runtime is ready;
   * `crashless run --no-keeper` runs without one.
   */
  keeper?: {
    /** Keep a warm standby runtime (app loaded, stores open) to promote at once. Default: true. */
    standby?: boolean
    /**
     * A runtime whose main thread sends no heartbeat for this long is killed and replaced (its
     * event loop is blocked: a bug in crashless, or native code gone astray). Default: 3000.
     */
    leaseMs?: number
    /** More than this many runtime deaths within `periodMs` stop the keeper (exit 1). Default: 5. */
    intensity?: number
    /** The window of `intensity`. Default: 60000. */
    periodMs?: number
  }
  /**
   * Incidents: the record every failure leaves (see README, "Incidents"), read by
   * `crashless incidents`, `crashless replay` and the admin endpoint.
   */
  incidents?: {
    /** Where incident files go, relative to the working directory. Default: `.crashless/incidents`. */
    dir?: string
    /** Incident files kept at most; the oldest are pruned first. Default: 1000. */
    maxCount?: number
    /** Bytes the incident files may take in all; the oldest are pruned first. Default: 64 MiB. */
    maxBytes?: number
    /** Bytes of a request body kept in its incident (the rest is cut, and the incident says so). Default: 64 KiB. */
    maxBodyBytes?: number
    /** Sacrificial re-runs record each request's store reads and nondeterminism for replay. Default: true. */
    record?: boolean
    /**
     * Secrets never written to an incident, on top of the built-in rules (authorization,
     * proxy-authorization, cookie, set-cookie, and any header whose name contains token, secret,
     * key, password, auth or session; JSON and form body fields whose name contains password,
     * secret or token): more header names, and more body field names (matched at any depth).
     * `env`: more environment variable names kept out of the fingerprint (on top of any whose
     * name contains token, secret, key, pass, auth, session, credential, private, cert,
     * cookie, dsn, salt or signature).
     */
    redact?: { headers?: string[]; bodyFields?: string[]; env?: string[] }
  }
  /** Health probes on the service port (the admin endpoint always has `/livez` and `/readyz`). */
  probes?: {
    /**
     * When set, crashless itself answers `<path>/livez` and `<path>/readyz` on the service port
     * (GET or HEAD; never the app), without a token: for probes that can only reach the service
     * port. A path starting with `/`, without a trailing `/`, query or fragment, e.g.
     * `/.crashless`. Default: unset (off).
     */
    path?: string
  }
  log?: {
    /** pino level. Default: `info`. */
    level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    /**
     * `pretty`: one readable, coloured line per event; `json`: one JSON object per line (for log
     * collectors); `auto`: pretty when stdout is a terminal, JSON otherwise. The `event` names
     * are the same in both. `--log-format` overrides it. Default: `auto`.
     */
    format?: 'auto' | 'pretty' | 'json'
  }
}

/** The configuration after defaults and validation: every field present. */
export interface ResolvedConfig {
  /** Absolute path of the entry module. */
  entry: string
  port: number | undefined
  host: string | undefined
  instances: number
  spares: number
  style: EntryStyle
  isolation: Isolation
  /** How many runtimes: `'auto'` resolved against this machine's cores. */
  runtimes: number
  limits: { maxBodyBytes: number; bufferedBodyMb: number; concurrency: number; queue: number; heapMb: number; stackMb: number; externalMb: number; rssMb: number }
  timeouts: { requestMs: number; leaseMs: number; startMs: number; drainMs: number; headersMs: number; bodyMs: number }
  replay: { maxAttempts: number; methods: string[]; idempotencyKeyHeader: string; idempotencyTtlMs: number }
  immunity: {
    threshold: number
    quarantineMs: number
    store: 'sqlite' | 'redis' | 'memory'
    path: string
    signature: { query: 'all' | 'none' | string[]; body: boolean; key?: SignatureKey }
    maxCrashes: number
    bulkhead: number
  }
  recovery: { ladder: Tweak[]; sacrificial: number; queue: number; heapFactor: number; stackFactor: number; timeFactor: number; budgetMs: number; intensity: number; periodMs: number; runtimeIntensity: number; runtimePeriodMs: number }
  /** As written (validated, entries absolute); see `resolveComponents` for the full form. */
  components: Record<string, ComponentOptions>
  groups: Record<string, GroupOptions>
  outliers: Required<OutlierOptions>
  rejuvenate: { heapPercent: number; maxAgeMs: number; maxRequests: number }
  keeper: { standby: boolean; leaseMs: number; intensity: number; periodMs: number }
  admin: { enabled: boolean; port: number; host: string; token?: string }
  state: {
    backend: 'sqlite' | 'memory' | 'redis'
    path: string
    synchronous: 'off' | 'normal' | 'full' | 'extra'
    redisUrl: string
    redisPrefix: string
    maxCommitRetries: number
    readCacheMb: number
  }
  session: {
    enabled: boolean
    cookieName: string
    secret?: string | string[]
    ttlMs: number
    secure: boolean
    sameSite: 'lax' | 'strict' | 'none'
    path: string
  }
  incidents: { dir: string; maxCount: number; maxBytes: number; maxBodyBytes: number; record: boolean; redact: { headers: string[]; bodyFields: string[]; env: string[] } }
  probes: { path?: string }
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; format: 'auto' | 'pretty' | 'json' }
}

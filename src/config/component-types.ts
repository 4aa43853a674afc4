/**
 * The config of components (DESIGN.md: the unit of microreboot), their restart groups, and the
 * watch on bad answers: the sections `components`, `groups` and `outliers` of
 * {@link CrashlessConfig}, as written and as resolved.
 */

/** The limits a component may set for its own instances (the others are the runtime's). */
export interface ComponentLimits {
  /** Requests one instance runs at once. Default: `limits.concurrency`. */
  concurrency?: number
  /** Requests waiting for one of its instances before new ones get 503. Default: `limits.queue`. */
  queue?: number
  /** Old-generation heap cap of one instance, MiB. Default: `limits.heapMb`. */
  heapMb?: number
  /** Stack size of one instance, MiB. Default: `limits.stackMb`. */
  stackMb?: number
  /** Memory outside the V8 heap one instance may hold, MiB (0: no cap). Default: `limits.externalMb`. */
  externalMb?: number
}

/**
 * A request crashless sends to every serving instance of a component, on its own: an answer of
 * 500 or more, or none within `timeoutMs`, is a failed check. `failures` failed checks in a row
 * eject the instance (a swap to its spare), as bad answers do (see `outliers`).
 */
export interface HealthCheckOptions {
  /** The path to GET, e.g. `/health`; starts with `/`. */
  path: string
  /** How often each instance is checked, ms (at least 100). */
  everyMs: number
  /** How long an answer may take, ms. Default: `everyMs`, at most `timeouts.leaseMs` x 2. */
  timeoutMs?: number
  /** Failed checks in a row that eject an instance. Default: 2. */
  failures?: number
}

/** One component: a part of the app mounted on route prefixes, with instances of its own. */
export interface ComponentOptions {
  /**
   * The route prefix(es) it serves: `/bids` takes `/bids`, `/bids/…` and `/bids?…`, not
   * `/bidsx`. A request goes to the component with the longest matching prefix; requests no
   * prefix matches go to the `default` component. Required, except for `default`, which has none.
   */
  prefix?: string | string[]
  /** Its own app module, relative to the config file. Default: `entry` (the same app, in its own instances). */
  entry?: string
  /** Serving instances. Default: `instances`. */
  instances?: number
  /** Warm spares. Default: `spares`. */
  spares?: number
  /** The restart group it belongs to (a key of `groups`). Default: none. */
  group?: string
  limits?: ComponentLimits
  /** Default: none. */
  healthCheck?: HealthCheckOptions
  /**
   * Restart intensity, instance level (OTP's): more than this many of its serving instances
   * lost with no request to blame within `periodMs` reboot the whole component. Ejections (bad
   * answers, health checks) do not count: they have a bound of their own (`outliers`).
   * Default: `recovery.intensity`.
   */
  intensity?: number
  /** The window of `intensity`, ms. Default: `recovery.periodMs`. */
  periodMs?: number
}

/** A restart group: components rebooted together. */
export interface GroupOptions {
  /**
   * Restart intensity, component level: more than this many reboots of its components within
   * `periodMs` reboot the whole group. Default: 3.
   */
  intensity?: number
  /** The window of `intensity`, ms. Default: 60000. */
  periodMs?: number
  /**
   * Instances of two or more of its components failing with no request to blame within this
   * many ms of each other reboot the group at once: they fail together. Default: 1000.
   */
  windowMs?: number
}

/**
 * Bad answers (DESIGN.md "Failure detection"): an instance whose answers are 5xx far more often
 * than its siblings' is ejected, i.e. swapped for its spare, like a crashed one. Ejections of one
 * component are bounded by `intensity` within `periodMs`; past it they stop until the window
 * has room again, and never escalate: an app's deliberate 503s are not a fault to reboot for.
 */
export interface OutlierOptions {
  /**
   * This many 5xx answers in a row from one instance eject it, unless its siblings answer 5xx
   * too (half or more of their answers in `windowMs`): then the app, not the instance, answers
   * so. 0 turns the rule off. Default: 5.
   */
  consecutive5xx?: number
  /** The window of the rate rule and of the siblings' rate, ms. Default: 10000. */
  windowMs?: number
  /**
   * Rate rule: an instance with at least `minRequests` answers in the window, `ratePercent`%
   * or more of them 5xx, and `rateFactor` times its siblings' share or more, is ejected.
   * 0 turns the rule off. Default: 20.
   */
  minRequests?: number
  /** Default: 20. */
  ratePercent?: number
  /** Default: 5. */
  rateFactor?: number
  /** Ejections of one component's instances within `periodMs`, at most. Default: 3. */
  intensity?: number
  /** Default: 60000. */
  periodMs?: number
  /**
   * When an instance is ejected, the requests it answered just before its bad answers are
   * suspects: each distinct one (at most this many) is re-run on a fresh sacrificial instance
   * between two runs of a request it answered badly; one after which that request fails
   * corrupts the instance and is quarantined. 0 turns the search off. Default: 8.
   */
  suspects?: number
}

/** A component as the runtime uses it: every field present, defaults applied. */
export interface ResolvedComponent {
  /** Its key in `components`; `default` for the one serving what no prefix matches. */
  readonly name: string
  /** Normalised prefixes (no trailing `/`); empty for `default`. */
  readonly prefixes: readonly string[]
  /** Absolute path of its app module. */
  readonly entry: string
  readonly instances: number
  readonly spares: number
  readonly group: string | null
  readonly limits: Required<ComponentLimits>
  readonly healthCheck: Required<HealthCheckOptions> | null
  readonly intensity: number
  readonly periodMs: number
}

/** A group as the runtime uses it. */
export interface ResolvedGroup {
  readonly name: string
  readonly members: readonly string[]
  readonly intensity: number
  readonly periodMs: number
  readonly windowMs: number
}

/** What the metrics read at scrape time from the runtime's live objects (built in src/runtime). */

/** Where an instance stands in the pool. */
export type InstanceRole = 'serving' | 'spare' | 'sacrificial' | 'retiring' | 'draining'

/** One instance as the metrics, `/instances` and `crashless status` show it. */
export interface InstanceFigures {
  /** Its id; a named component's instances carry the component as a prefix (`bids/i3`). */
  readonly id: string
  /** The component it serves (`default` when no components are configured). */
  readonly component: string
  readonly role: InstanceRole
  /** `starting`, `ready`, `tainted`, `draining` or `dead`. */
  readonly state: string
  /** Since it was ready (0 while starting), ms. */
  readonly uptimeMs: number
  /** Requests it has been given. */
  readonly served: number
  readonly inflight: number
  /** Failures it lived through: requests crashed in it (suppressed), deadlines passed in it. */
  readonly recoveries: number
  /** Heap in use after its last garbage collection, MiB. */
  readonly heapMb: number
  /** Its heap cap, MiB. */
  readonly heapCapMb: number
  /** Memory outside its V8 heap (Buffers, ArrayBuffers), MiB. */
  readonly externalMb: number
}

/** The keeper's own counts, relayed to the active runtime (see src/keeper/keeper-protocol.ts). */
export interface KeeperFigures {
  /** Runtime deaths, by which runtime died: `active`, `standby`, `replacement`, `escalation`. */
  readonly runtimeDeaths: Readonly<Record<string, number>>
  /** Runtimes promoted to active, by reason: `start`, `death`, `reload`, `escalation`. */
  readonly promotions: Readonly<Record<string, number>>
  /** Reloads, by outcome: `started`, `succeeded`, `failed`. */
  readonly reloads: Readonly<Record<string, number>>
}

/** The runtime's live state as the metrics read it. */
export interface MetricsSource {
  instances(): InstanceFigures[]
  /** Instances starting (spares-to-be), not yet ready. */
  starting(): number
  /** Every component (names from the config, known at start) with its instances starting. */
  components(): { component: string; starting: number }[]
  /** Requests accepted and not answered yet (queued or running). */
  inFlight(): number
  /** Requests waiting for an instance. */
  queued(): number
  /** Per-request transactions since start. */
  commits(): { commits: number; conflicts: number; gaveUp: number; failures: number }
  /** Live immunity entries. */
  immunity(): { entries: number; quarantined: number; cured: number }
  /** The keeper's counts, or null without a keeper (`--no-keeper`). */
  keeper(): KeeperFigures | null
}

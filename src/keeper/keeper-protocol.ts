/**
 * Every message between the keeper and a runtime process it started, over the Node IPC channel
 * of `child_process.fork` (JSON serialization). Listening sockets and accepted connections
 * travel as the channel's handles beside `listener` and `connection` messages: Node passes the
 * file descriptor (SCM_RIGHTS) and the receiving side gets a `net.Server` / `net.Socket`.
 * https://nodejs.org/api/child_process.html#subprocesssendmessage-sendhandle-options-callback
 */

import type { HealthReport, InstancesReport } from '../admin/index.js'
import type { ImmunityEntry } from '../immunity/index.js'

/** Set to '1' in the environment of a runtime started by a keeper: `crashless run` then serves under it. */
export const RUNTIME_ENV = 'CRASHLESS_UNDER_KEEPER'

/** The sockets a keeper owns for its runtimes. */
export type ListenerName = 'service' | 'admin'

/** Where a runtime wants a socket bound (its config, or where its app asked to listen). */
export interface BindRequest {
  readonly port: number
  readonly host: string | undefined
}

/** The `keeper` section of the runtime's resolved config. */
export interface KeeperSettings {
  readonly standby: boolean
  readonly leaseMs: number
  readonly intensity: number
  readonly periodMs: number
}

/** runtime -> keeper: instances started, stores open, immunity table loaded; nothing accepted yet. */
export interface ReadyMessage {
  readonly type: 'ready'
  readonly service: BindRequest
  /** Null when `admin.enabled` is false. */
  readonly admin: BindRequest | null
  readonly keeper: KeeperSettings
  /** `runtimes`, resolved: how many active runtimes the keeper keeps. */
  readonly runtimes: number
  /** `timeouts.drainMs`: how long the keeper waits for a draining runtime (plus a margin). */
  readonly drainMs: number
  /** `log.level`, which the keeper adopts (it reads no config file itself). */
  readonly logLevel: string
}

/** runtime -> keeper, every quarter of `keeper.leaseMs`: its main thread's event loop turns. */
export interface BeatMessage {
  readonly type: 'beat'
}

/** runtime -> keeper: the runtime cannot go on (its instances keep failing to start); do not replace it. */
export interface GaveUpMessage {
  readonly type: 'gave-up'
  readonly message: string
}

/** runtime -> keeper: a reload was asked for (admin endpoint). */
export interface ReloadRequest {
  readonly type: 'reload'
}

/** runtime -> keeper: a request of a suspect completed, so it is innocent of the deaths. */
export interface SuspectClearedMessage {
  readonly type: 'suspect-cleared'
  /** The in-flight record (see in-flight/in-flight-record.ts) the keeper knows the suspect by. */
  readonly record: string
}

/** runtime -> keeper: it has connection `id` (its own descriptor); the keeper may close its copy. */
export interface ConnectionTakenMessage {
  readonly type: 'connection-taken'
  readonly id: number
}

/** runtime -> keeper: its instances keep dying with nobody to blame (`recovery.intensity`): swap it for the standby. */
export interface EscalateMessage {
  readonly type: 'escalate'
  readonly why: string
}

/**
 * A verdict of one runtime's immunity table, relayed by the keeper to its other runtimes so a
 * poison learned by one is refused by all (runtime -> keeper, then keeper -> each other runtime,
 * with `from` set). The entry travels whole: applying it costs no store read.
 */
export interface VerdictMessage {
  readonly type: 'verdict'
  readonly verdict: 'quarantine' | 'cure' | 'release'
  readonly signature: string
  /** The entry as the deciding runtime holds it; null for a release. */
  readonly entry: ImmunityEntry | null
  /** When it was decided: ms on the machine's monotonic clock (process.hrtime), for the delay the receiver logs. */
  readonly at: number
  /** keeper -> runtime: the pid of the runtime that decided it. */
  readonly from?: number
}

/** runtime -> keeper: the admin endpoint's runtime asks for the other runtimes' reports (answered by `gathered`). */
export interface GatherMessage {
  readonly type: 'gather'
  readonly id: number
}

/** What one runtime tells the admin endpoint about itself: `/instances`, `/health` and `/metrics` material. */
export interface RuntimeReport {
  /** Its slot, 1 to `runtimes`: stable across its replacements, the `runtime` label of its metrics. */
  readonly slot: number
  readonly instances: InstancesReport
  readonly health: Omit<HealthReport, 'quarantined'>
  /** prom-client's `getMetricsAsJSON()` of its registry. */
  readonly metrics: readonly unknown[]
}

/** runtime -> keeper: its report, for the gather `id`. */
export interface ReportMessage {
  readonly type: 'report'
  readonly id: number
  readonly report: RuntimeReport
}

export type RuntimeToKeeper = ReadyMessage | BeatMessage | GaveUpMessage | ReloadRequest | SuspectClearedMessage | ConnectionTakenMessage | EscalateMessage | VerdictMessage | GatherMessage | ReportMessage

/** keeper -> runtime, with a `net.Server` handle: accept connections on it from now on. */
export interface ListenerMessage {
  readonly type: 'listener'
  readonly name: ListenerName
  readonly port: number
  readonly address: string
}

/** keeper -> runtime, with a `net.Socket` handle: a connection the keeper accepted (paused, nothing read). */
export interface ConnectionMessage {
  readonly type: 'connection'
  readonly name: ListenerName
  /** Acknowledged with `connection-taken`: until then the keeper keeps its copy, to re-route it if the runtime dies first. */
  readonly id: number
}

/** A request that was in flight when a runtime died, by its in-flight record (`METHOD URL #bodyhash`). */
export interface SuspectRecord {
  readonly record: string
  /** Runtime deaths it was in flight at, without completing a request in between. */
  readonly deaths: number
}

/** keeper -> runtime: you are the active runtime now (after its `listener` messages). */
export interface PromoteMessage {
  readonly type: 'promote'
  /** No runtime served before this one: log `listening`, not `promoted`. */
  readonly first: boolean
  /** Why it is promoted, for its log line. */
  readonly reason: 'start' | 'death' | 'reload' | 'escalation'
  /** The slot it serves in, 1 to `runtimes` (see RuntimeReport.slot). */
  readonly slot: number
  /** In flight at earlier deaths; run one at a time, cleared by one success. */
  readonly suspects: readonly SuspectRecord[]
  /** In flight at two runtime deaths: quarantine their signatures. */
  readonly poison: readonly SuspectRecord[]
}

/** keeper -> runtime: stop accepting, finish what is in flight (bounded by `timeouts.drainMs`), exit 0. */
export interface DrainMessage {
  readonly type: 'drain'
  /**
   * Another runtime serves now (a reload, a swap): keep-alive connections idle at the start may
   * wait out their keep-alive timeout rather than be closed after a second (see shutdown in
   * start-runtime.ts). False when the whole service stops.
   */
  readonly handover: boolean
}

/** What the keeper counted since it started; the admin endpoint's runtime shows them on `/metrics`. */
export interface KeeperCounts {
  /** Runtime deaths, by which runtime died: `active`, `standby`, `replacement`, `escalation` (an active one swapped for its standby). */
  readonly runtimeDeaths: Record<string, number>
  /** Runtimes promoted to active, by reason (PromoteMessage.reason). */
  readonly promotions: Record<string, number>
  /** Reloads, by outcome: `started`, `succeeded`, `failed`. */
  readonly reloads: Record<string, number>
}

/**
 * keeper -> runtime: the keeper's counts, sent to the runtime serving the admin endpoint when it
 * takes it and whenever they change, so one scrape of the admin endpoint covers the keeper too.
 */
export interface CountsMessage {
  readonly type: 'keeper-counts'
  readonly counts: KeeperCounts
}

/**
 * keeper -> an active runtime: what a death of another runtime left (with `runtimes` above 1 the
 * others serve on while it is replaced): the poison is quarantined at once, by this runtime,
 * which relays the verdict to the rest.
 */
export interface RuntimeDeathsMessage {
  readonly type: 'runtime-deaths'
  readonly poison: readonly SuspectRecord[]
  readonly suspects: readonly SuspectRecord[]
}

/** keeper -> a runtime: send your report for gather `id`. */
export interface ReportRequest {
  readonly type: 'report-request'
  readonly id: number
}

/** keeper -> the runtime that asked: the other runtimes' reports (those that answered in time). */
export interface GatheredMessage {
  readonly type: 'gathered'
  readonly id: number
  readonly reports: readonly RuntimeReport[]
}

export type KeeperToRuntime = ListenerMessage | ConnectionMessage | PromoteMessage | DrainMessage | CountsMessage | VerdictMessage | RuntimeDeathsMessage | ReportRequest | GatheredMessage

/** Type guard for messages arriving on a runtime's IPC channel. */
export function isKeeperMessage(value: unknown): value is KeeperToRuntime {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
}

/** Type guard for messages arriving on the keeper's side of the channel. */
export function isRuntimeMessage(value: unknown): value is RuntimeToKeeper {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
}

/**
 * Every message between the dispatcher (main thread) and an instance (a worker thread, or a
 * child process under `isolation: 'process'`). Kept in one file so both sides change together.
 * Between threads, bodies travel as ArrayBuffers in the transfer list, so they are moved, not
 * copied; to a child process every message is copied through its IPC channel (see
 * supervise/process-channel.ts).
 */

import type { ReadVersion, StoredEntry, WriteOp } from './state/index.js'
import type { Tape, TapeEntry } from './tape.js'

/** Raw header pairs as Node gives them in `req.rawHeaders`: [name, value, name, value, ...]. */
export type RawHeaders = string[]

/**
 * Response headers that describe one hop (RFC 9110 section 7.6.1): the dispatcher's own
 * connection to the client sets its own, so an instance never sends them and the dispatcher
 * drops any a fetch handler set.
 */
export const HOP_BY_HOP_HEADERS: readonly string[] = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']

/** Response headers: lower-case names; multi-valued headers (set-cookie) as arrays. */
export type ResponseHeaders = Record<string, string | string[]>

/** Data the dispatcher gives an instance when it starts (as `workerData`). */
export interface InstanceInit {
  instanceId: string
  /** Absolute path of the app entry module. */
  entry: string
  style: 'auto' | 'fetch' | 'node' | 'listen'
  /**
   * Int32Array over a SharedArrayBuffer of `LEASE_SLOTS` slots; see {@link LeaseSlot}. Null in a
   * child process, which cannot share memory with the dispatcher: it keeps the block itself and
   * mirrors it into the lease file it inherits as file descriptor {@link LEASE_FD}.
   */
  heartbeat: SharedArrayBuffer | null
  /** How often the beat moves while the instance has work: requests in flight or waiting, messages. */
  heartbeatIntervalMs: number
  /**
   * How often it moves while it has none (a spare, a standby's instances, a quiet service): a
   * timer waking every few ms costs an idle worker ~1.6% of a core, and nothing is there to judge.
   */
  idleHeartbeatMs: number
  /** How long the app may take to export a handler or call listen(). */
  startTimeoutMs: number
  /** The port crashless serves on, when known: what a captured server's address() reports. */
  advertisedPort: number | undefined
  /** Cookie sessions, when configured: a session's record expires `ttlMs` after it was last written. Null: `session` throws CRASHLESS_ERR_NO_SESSION. */
  sessions: { ttlMs: number } | null
  /** Bytes of committed store entries the instance may keep to read without a round trip; 0: none (`state.readCacheMb`). */
  readCacheBytes: number
}

/**
 * The slots of the lease block shared by the dispatcher and one instance (an Int32Array over
 * `InstanceInit.heartbeat`). The dispatcher reads them without a message round trip, so it
 * sees a busy or a stuck instance even while that instance's event loop runs no JS of ours.
 */
export const LeaseSlot = {
  /**
   * Progress: advanced by a timer, and by every handler started and response finished, so an
   * instance busy with CPU-bound requests back to back is never mistaken for a stuck one.
   */
  Beat: 0,
  /** The id of the request (or negative connection id) whose code runs synchronously now; 0 when none. */
  Running: 1,
  /**
   * The `seq` of the last request started (or skipped as taken back). Moved by compare-and-swap
   * from both sides, so a request is either started here or taken back, never both.
   */
  Started: 2,
  /** What one request costs the instance's event loop lately, in µs (a moving average). */
  CostUs: 3,
  /**
   * The instance's V8 heap outside the young generation (MiB): its live heap, plus garbage only a
   * major collection frees. Sampled after each collection, each handler that grew it, every 50 ms.
   */
  HeapMb: 4,
  /**
   * The instance's memory outside the V8 heap (MiB): Buffers, ArrayBuffers, external strings.
   * Per isolate (a worker's own, not the process's), sampled with `HeapMb` and on a timer.
   */
  ExternalMb: 5,
} as const

/** How many Int32 slots the lease block has. */
export const LEASE_SLOTS = 6

/**
 * Under `isolation: 'process'`, the file descriptor (in the child) of the lease file: the
 * dispatcher reads the lease block there, at offset 0, as the child last wrote it (see
 * host/process-link.ts for when it writes, supervise/lease-file.ts for the reads).
 */
export const LEASE_FD = 4

/** Under `isolation: 'process'`, the environment variable carrying the child's InstanceInit (as JSON). */
export const INSTANCE_ENV = 'CRASHLESS_INSTANCE'

// ---- dispatcher -> instance ------------------------------------------------------------

export interface RequestMessage {
  type: 'request'
  id: number
  /**
   * This instance's count of requests posted to it, this one included (an Int32 that wraps).
   * The instance starts a request only by moving `LeaseSlot.Started` from `seq - 1` to `seq`;
   * the dispatcher takes back requests not started yet by moving that slot past them.
   */
  seq: number
  method: string
  url: string
  /** The raw header pairs joined by NUL (see packHeaders): one string clones far faster than an array. */
  headerBlock: string
  /**
   * Shared, not copied: the dispatcher keeps the same memory to re-serve the request on
   * another instance if this one dies. A child process receives a copy, as an ArrayBuffer.
   */
  body: SharedArrayBuffer | ArrayBuffer | null
  remoteAddress: string
  remotePort: number
  /** Local TLS is not terminated by crashless; the scheme the client used. */
  scheme: 'http' | 'https'
  /**
   * The session this request's cookie names, once the dispatcher verified its signature:
   * `session` reads and writes that session's record. Absent (no cookie, or a bad one): the
   * request has no session until a handler writes to `session`, which makes one.
   */
  sessionId?: string
}

/**
 * Request ids from here up (to 2^31 - 1, so `id | 0` stays positive) are crashless's own requests,
 * sent to one chosen instance with no client behind them: health checks, and the re-runs that
 * look for a request corrupting its instance (src/components/probes.ts). The dispatchers number
 * client requests from 1, and would need a billion of them in one runtime to get here.
 */
export const PROBE_ID_BASE = 2 ** 30

/**
 * The client went away or the deadline passed: the instance drops the request. A recording
 * (sacrificial) instance answers with `aborted`, carrying the request's tape.
 */
export interface AbortMessage {
  type: 'abort'
  id: number
}

/**
 * An upgrade (WebSocket) request. The instance answers with `upgrade-answer`; once accepted,
 * the socket's bytes travel as `socket-data` both ways until `socket-close`.
 *
 * Connection ids are negative: the instance attributes faults to them the same way it does to
 * request ids (`fatal.requestId`), and negative ids can never be mistaken for a request.
 */
export interface UpgradeMessage {
  type: 'upgrade'
  id: number
  method: string
  url: string
  rawHeaders: RawHeaders
  /** Bytes the client sent after the request head (transferred). */
  head: ArrayBuffer | null
  remoteAddress: string
  remotePort: number
}

/** Bytes of a relayed upgraded socket, in either direction (transferred); `data: null` means end. */
export interface SocketDataMessage {
  type: 'socket-data'
  id: number
  data: ArrayBuffer | null
}

/** The relayed socket was closed (by the client, or by the app). */
export interface SocketCloseMessage {
  type: 'socket-close'
  id: number
}

/**
 * Flow control for a relayed socket, in either direction: the receiver has taken `bytes` bytes
 * of the connection in total (written them to the client, or handed them to the app). A sender
 * keeps at most `SOCKET_WINDOW_BYTES` unacknowledged, so a slow reader holds back the writer
 * instead of piling data up in the dispatcher.
 */
export interface SocketAckMessage {
  type: 'socket-ack'
  id: number
  bytes: number
}

/** How many bytes a relayed socket's sender may have unacknowledged. */
export const SOCKET_WINDOW_BYTES = 1 << 20

/** A receiver acknowledges at least this much at a time (a quarter of the window). */
export const SOCKET_ACK_BYTES = SOCKET_WINDOW_BYTES / 4

/** The answer to one `store-read`: committed entries, or why they could not be read. */
export interface StoreResultMessage {
  type: 'store-result'
  id: number
  seq: number
  entries: StoredEntry[] | null
  error: SerializedError | null
}

/**
 * A commit wrote these keys (full store keys): the instance's read cache forgets them. Sent to
 * every instance before the committing request's response goes out (see read-cache.ts).
 */
export interface StoreInvalidateMessage {
  type: 'store-invalidate'
  keys: string[]
}

/** Stop taking work and exit when idle. */
export interface DrainMessage {
  type: 'drain'
  /**
   * How long, at most, to wait for the app's leftover work once idle (default 1 s). A
   * sacrificial instance gets 0: it carried no ordinary traffic, and nothing of it is worth a
   * thread that lingers.
   */
  graceMs?: number
}

/**
 * Run at the lowest CPU priority from now on (a sacrificial instance): a poison looping there
 * gets only the CPU that serving instances leave idle, so recovery never starves service.
 */
export interface YieldMessage {
  type: 'yield'
}

/**
 * A child process's stand-in for moving `LeaseSlot.Started` by compare-and-swap (it shares no
 * memory with the dispatcher): requests posted up to `upTo` and not started yet are taken back.
 * Messages arrive in order, so every one of them is in the child when this is; it answers with
 * `taken-back`.
 */
export interface TakeBackMessage {
  type: 'take-back'
  upTo: number
}

/**
 * The instance became sacrificial: from now on it records each request's tape (src/tape.ts),
 * streams its entries as they are drawn (`tape-entry`) and sends the whole tape with the
 * request's failure. Never sent to a serving instance.
 */
export interface RecordMessage {
  type: 'record'
}

/**
 * The instance became sacrificial: from now on it tells the dispatcher when every request it
 * holds waits on nothing that can ever happen (`quiet`, see host/quiet-watch.ts). Never sent to
 * a serving instance.
 */
export interface WatchQuietMessage {
  type: 'watch-quiet'
}

export type ToInstance =
  | RecordMessage
  | WatchQuietMessage
  | RequestMessage
  | TakeBackMessage
  | AbortMessage
  | UpgradeMessage
  | SocketDataMessage
  | SocketCloseMessage
  | SocketAckMessage
  | StoreResultMessage
  | StoreInvalidateMessage
  | DrainMessage
  | YieldMessage

// ---- instance -> dispatcher ------------------------------------------------------------

/** The app is loaded and a handler is in place. */
export interface ReadyMessage {
  type: 'ready'
  style: 'fetch' | 'node' | 'listen'
  /** What the app passed to listen(), when it called it. */
  listen: { port?: number; host?: string } | null
  /** The operating system's id of the instance's thread (Linux), for reading its CPU time; else null. */
  tid: number | null
}

/**
 * What a request did to the stores, sealed when its response (or the head of a streamed one)
 * was sent: the versions it read and the writes it buffered. The dispatcher commits it before
 * answering; it is absent when the request wrote nothing and needs no validation.
 */
export interface TransactionPayload {
  reads: ReadVersion[]
  writes: WriteOp[]
  /**
   * The session cookie to send once this commits: a session id (a session made, written or
   * refreshed by the request: its cookie is (re)sent with a fresh Max-Age), or null to clear the
   * cookie (the request destroyed its session). The dispatcher signs it; absent: no cookie.
   */
  session?: { id: string | null }
}

/** A whole response in one message: the common, fast case. */
export interface ResponseMessage {
  type: 'response'
  id: number
  status: number
  statusMessage: string | undefined
  headers: ResponseHeaders
  /** The whole body (see wire.ts for how it crosses a thread). */
  body: Uint8Array | null
  tx?: TransactionPayload | undefined
}

/** The start of a streamed response; chunks follow. */
export interface HeadMessage {
  type: 'head'
  id: number
  status: number
  statusMessage: string | undefined
  headers: ResponseHeaders
  /** Committed before the head is sent: writes made after it cannot be (the instance refuses them). */
  tx?: TransactionPayload | undefined
}

/** Which committed entries a `store-read` asks for; keys are full store keys (namespace included). */
export type StoreReadOp = { kind: 'get'; keys: string[] } | { kind: 'list'; prefix: string; limit?: number; after?: string }

/**
 * A request reads committed state; the dispatcher answers with `store-result` of the same `seq`.
 * Writes never travel on their own: they are buffered in the instance and sent with the response.
 */
export interface StoreReadMessage {
  type: 'store-read'
  /** The request doing the read. */
  id: number
  /** Unique within the instance, to match the answer. */
  seq: number
  op: StoreReadOp
}

export interface ChunkMessage {
  type: 'chunk'
  id: number
  data: ArrayBuffer
}

export interface EndMessage {
  type: 'end'
  id: number
  trailers: Record<string, string> | null
}

/**
 * The handler failed for this request only (fetch handler threw, or the response stream
 * errored). The instance is still healthy.
 */
export interface RequestFailedMessage {
  type: 'request-failed'
  id: number
  error: SerializedError
  /** Whether the head had already been sent with `head`. */
  started: boolean
}

/**
 * The instance is about to die of an uncaught exception or unhandled rejection. `requestId`
 * names the request whose async context raised it, when that is known.
 */
export interface FatalMessage {
  type: 'fatal'
  kind: 'uncaughtException' | 'unhandledRejection' | 'exit'
  requestId: number | null
  error: SerializedError
  /** The request's tape, on a recording (sacrificial) instance. */
  tape?: Tape | undefined
}

/**
 * Whether the app took an upgrade. Refused when no server of the app listens for `upgrade`
 * (a fetch handler, a bare listener, a server without a WebSocket library): the dispatcher
 * then serves the request as plain HTTP, as Node does for a server without `upgrade` listeners.
 */
export interface UpgradeAnswerMessage {
  type: 'upgrade-answer'
  id: number
  accepted: boolean
}

/** The app failed to load (syntax error, missing export, threw at import, never listened). */
export interface StartFailedMessage {
  type: 'start-failed'
  file: string
  error: SerializedError
}

/**
 * An error raised in one request's asynchronous context (uncaught exception, unhandled
 * rejection, stack overflow) was suppressed (SRS): that request fails alone, the instance keeps
 * serving its other requests and asks to be replaced once they finish.
 */
export interface RequestCrashedMessage {
  type: 'request-crashed'
  id: number
  /** `exit`: the request's code called process.exit(), which was turned into this request's crash. */
  kind: 'uncaughtException' | 'unhandledRejection' | 'exit'
  error: SerializedError
  /** The request's tape, on a recording (sacrificial) instance. */
  tape?: Tape | undefined
}

/**
 * A recording (sacrificial) instance's answer to `abort` of a request it had started: what the
 * request drew until then. A re-run that missed its deadline never fails inside the instance,
 * so this is the only way its tape (the store read it waits on, say) reaches the incident.
 */
export interface AbortedMessage {
  type: 'aborted'
  id: number
  tape: Tape
}

/**
 * From a recording (sacrificial) instance, the moment request `id` draws it: one entry of its
 * tape (a value, a store read, or `cut`: later entries were not kept). The instance's Instance
 * (src/supervise/streamed-tapes.ts) assembles them, and a run that ends its instance (a stall,
 * out of memory, a child process's death) leaves that tape: it never sends its own. Sent at once,
 * not at the end of the turn (see src/host/tape-stream.ts); at most STREAM_LIMITS per run.
 * Never sent by a serving instance.
 */
export type TapeEntryMessage = { type: 'tape-entry'; id: number } & TapeEntry

/**
 * The answer to `take-back`: requests numbered after `after`, up to `upTo`, will not start
 * there (see isTakenBack); `after: null` when every one had started.
 */
export interface TakenBackMessage {
  type: 'taken-back'
  after: number | null
  upTo: number
}

/**
 * From a sacrificial instance (`watch-quiet`): the requests `ids` are all it holds, and nothing
 * they could be waiting for is pending (no handle or request of the app's is active, no store
 * read is out, no timer or immediate is queued) over a few checks: plain Node would exit here.
 * None of them can ever finish on this instance, however long its deadline.
 */
export interface QuietMessage {
  type: 'quiet'
  ids: number[]
}

export type FromInstance =
  | ReadyMessage
  | QuietMessage
  | RequestCrashedMessage
  | AbortedMessage
  | StartFailedMessage
  | ResponseMessage
  | HeadMessage
  | ChunkMessage
  | EndMessage
  | RequestFailedMessage
  | FatalMessage
  | UpgradeAnswerMessage
  | SocketDataMessage
  | SocketCloseMessage
  | SocketAckMessage
  | StoreReadMessage

/**
 * Everything an instance sends: what reaches the dispatcher (FromInstance), and what its
 * supervisor-side Instance keeps to itself (answers to take-back, streamed tape entries).
 */
export type InstanceMessage = FromInstance | TakenBackMessage | TapeEntryMessage

/** Messages about upgraded connections, which the upgrade relay handles instead of the dispatcher. */
export type UpgradeTraffic = UpgradeAnswerMessage | SocketDataMessage | SocketCloseMessage | SocketAckMessage

/** True for the messages that belong to an upgraded connection. */
export function isUpgradeTraffic(msg: FromInstance): msg is UpgradeTraffic {
  return msg.type === 'upgrade-answer' || msg.type === 'socket-data' || msg.type === 'socket-close' || msg.type === 'socket-ack'
}

/** An error flattened for postMessage (prototypes do not survive it). */
export interface SerializedError {
  name: string
  message: string
  code: string | undefined
  stack: string | undefined
}

/**
 * Joins raw header pairs with NUL, which HTTP forbids inside names and values (Node's parser
 * rejects it), so the split is lossless. Measured: a request message with one string instead
 * of a string array clones about 3x faster, and cloning is most of postMessage's cost.
 */
export function packHeaders(raw: RawHeaders): string {
  return raw.join('\0')
}

export function unpackHeaders(block: string): RawHeaders {
  return block === '' ? [] : block.split('\0')
}

/**
 * Messages travel in batches: each side queues what it posts during one turn of its event loop
 * and sends the queue as one array (see outbox.ts). One postMessage per batch instead of per
 * message cuts the per-request cost of crossing threads several times over under load.
 */
export type Batch<T> = T[]

/** Flattens anything thrown into a SerializedError. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return { name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined, stack: err.stack }
  }
  return { name: 'NonError', message: safeString(err), code: undefined, stack: undefined }
}

function safeString(value: unknown): string {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

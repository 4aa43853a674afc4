import type { ServerResponse } from 'node:http'
import { packHeaders, type ChunkMessage, type EndMessage, type RequestMessage } from '../protocol.js'
import type { Environment } from '../immunity/index.js'
import type { Instance } from '../supervise/index.js'
import type { History } from '../recovery/index.js'
import type { KeyedRequest } from './idempotency.js'
import type { IdMap } from '../id-map.js'

/** One client request as the dispatcher tracks it, across attempts on several instances. */
export interface Job {
  /**
   * Internal id, unique in this runtime; the protocol's request id. A request re-run after a
   * commit conflict gets a new one, so messages of its earlier attempt cannot be mistaken for it.
   */
  id: number
  /** The id shown to clients in error bodies and logs. */
  readonly requestId: string
  readonly method: string
  readonly url: string
  readonly rawHeaders: string[]
  /** Kept (shared with instances, never copied) so the request can be re-served. */
  readonly body: SharedArrayBuffer | null
  readonly remoteAddress: string
  readonly remotePort: number
  readonly res: ServerResponse
  readonly replayable: boolean
  readonly receivedAt: number
  attempts: number
  /** Computed on first need (see PoisonGuard.signatureOf). */
  signature: string | null
  /** Set while the job is held back because its signature is under suspicion. */
  heldFor: string | null
  /** Set on a request that stalled an instance: the signature it is the probe of. */
  suspectOf: string | null
  /** Instances lost under this request through another request's fault (bounded separately). */
  innocentLosses: number
  /** The instance running the current attempt. */
  instance: Instance | null
  /** The current attempt's number on its instance (RequestMessage.seq), to take it back unstarted. */
  seq: number
  /** The head was sent to the client: the request can no longer be re-served. */
  started: boolean
  done: boolean
  /** A deadline of its own (a ladder run's), when it has one; see deadlineAt for the usual one. */
  deadline: NodeJS.Timeout | null
  /** When `timeouts.requestMs` runs out (performance.now() time; 0: answered, or a deadline of its own). See deadline-queue.ts. */
  deadlineAt: number
  /** Commit conflicts so far (bounded by `state.maxCommitRetries`). */
  conflicts: number
  /**
   * A store read of this request failed (the store is unreachable): if it then fails, the store
   * is to blame, and its client gets 503 with Retry-After rather than the app's 500.
   */
  storeFailed: boolean
  /** A streamed response's chunks, held while the transaction its head carried commits. */
  held: (ChunkMessage | EndMessage)[] | null
  /**
   * Where the job must run: set for the recovery ladder's tweaked re-runs, isolated suspects, a
   * signature's remembered cure and bulkheaded routes (always on a sacrificial instance); null
   * for ordinary instances.
   */
  env: Environment | null
  /** The rung of its signature's trial this run belongs to (see recovery-ladder.ts); 0 for none. */
  trialRung: number
  /** Requests that were in flight beside it when it first failed (for the `reorder` tweak). */
  neighbours: number[] | null
  /** The key whose conflict re-runs this job is waiting or running in (see conflict-lanes.ts). */
  lane: string | null
  /** The session its cookie names (signature checked), when sessions are on. */
  readonly sessionId: string | null
  /** Set when the request carries an idempotency key and is deduplicated (see idempotency.ts). */
  idempotency: KeyedRequest | null
}

/** What the rooms beside the dispatcher read of its in-flight table (an IdMap of jobs by id). */
export type JobsView = Pick<IdMap<Job>, 'size' | 'get' | 'has' | 'values'>

/** What a job starts from; everything else starts empty. */
export type JobInit = Pick<Job, 'id' | 'requestId' | 'method' | 'url' | 'rawHeaders' | 'body' | 'remoteAddress' | 'remotePort' | 'res' | 'replayable' | 'sessionId'>

/**
 * A new job, not yet attempted anywhere.
 *
 * @example
 * ```ts
 * const job = createJob({ id: 1, requestId: 'k3j9x1-1', method: 'GET', url: '/', rawHeaders: [], body: null, remoteAddress: '127.0.0.1', remotePort: 5000, res, replayable: true, sessionId: null })
 * ```
 */
export function createJob(init: JobInit): Job {
  // Every field spelled out, not `{ ...init, ... }`: V8 gave each spread-then-extended object a
  // fresh map, which cost ~22 µs per request (measured: .scratch profile of bench:overhead,
  // createJob was 21% of the dispatcher thread) against ~0.1 µs for a literal.
  return {
    id: init.id,
    requestId: init.requestId,
    method: init.method,
    url: init.url,
    rawHeaders: init.rawHeaders,
    body: init.body,
    remoteAddress: init.remoteAddress,
    remotePort: init.remotePort,
    res: init.res,
    replayable: init.replayable,
    sessionId: init.sessionId,
    receivedAt: performance.now(),
    attempts: 0,
    innocentLosses: 0,
    signature: null,
    heldFor: null,
    suspectOf: null,
    instance: null,
    seq: 0,
    started: false,
    done: false,
    deadline: null,
    deadlineAt: 0,
    conflicts: 0,
    storeFailed: false,
    held: null,
    lane: null,
    idempotency: null,
    env: null,
    trialRung: 0,
    neighbours: null,
  }
}

/**
 * What the recovery core's decisions know of a job's past (see src/recovery/decide.ts).
 *
 * @example
 * ```ts
 * decideLost(historyOf(job), 'another request', limits)
 * ```
 */
export function historyOf(job: Job): History {
  return { started: job.started, replayable: job.replayable, tweak: job.env?.tweak ?? null, attempts: job.attempts, innocentLosses: job.innocentLosses }
}

/**
 * The message that sends a job's current attempt to an instance (the instance numbers it: `seq`).
 *
 * @example
 * ```ts
 * job.seq = instance.postRequest(requestMessageOf(job))
 * ```
 */
export function requestMessageOf(job: Job): Omit<RequestMessage, 'seq'> {
  const msg: Omit<RequestMessage, 'seq'> = {
    type: 'request',
    id: job.id,
    method: job.method,
    url: job.url,
    headerBlock: packHeaders(job.rawHeaders),
    body: job.body,
    remoteAddress: job.remoteAddress,
    remotePort: job.remotePort,
    scheme: 'http',
  }
  if (job.sessionId !== null) msg.sessionId = job.sessionId
  return msg
}

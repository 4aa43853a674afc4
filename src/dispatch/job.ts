import type { ServerResponse } from 'node:http'
import type { Instance } from '../supervise/index.js'

/** One client request as the dispatcher tracks it, across attempts on several instances. */
export interface Job {
  /** Internal id, unique in this runtime; the protocol's request id. */
  readonly id: number
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
  /** Set while the job is held back because its signature is under suspicion. */
  heldFor: string | null
  /** Set on a request that stalled an instance: the signature it is the probe of. */
  suspectOf: string | null
  /** Instances lost under this request through another request's fault (bounded separately). */
  innocentLosses: number
  /** The instance running the current attempt. */
  instance: Instance | null
  /** The head was sent to the client: the request can no longer be re-served. */
  started: boolean
  done: boolean
  deadline: NodeJS.Timeout | null
}

import { createHash } from 'node:crypto'
import { isMainThread, threadId } from 'node:worker_threads'
import { formatInFlight, IN_FLIGHT_DIR_ENV, InFlightFile } from '../in-flight/index.js'
import type { RequestMessage } from '../protocol.js'

/** Bodies hashed for the record at most: a larger one is recorded as '?' (its signature cannot be rebuilt). */
const MAX_HASHED_BODY = 1024 * 1024

/**
 * Keeps, for the keeper, the requests this instance runs (see in-flight/in-flight-file.ts): a
 * request that kills the whole runtime process is then known by the next runtime as a suspect.
 * Inert when the runtime has no keeper (no folder in the environment).
 *
 * @example
 * ```ts
 * const recorder = InFlightRecorder.open()
 * recorder?.started(msg)   // before its handler runs
 * recorder?.ended(msg.id)  // when its response is complete
 * ```
 */
export class InFlightRecorder {
  private readonly slots = new Map<number, number>()

  private constructor(private readonly file: InFlightFile) {}

  /** Null when this runtime runs without a keeper. */
  static open(): InFlightRecorder | null {
    const dir = process.env[IN_FLIGHT_DIR_ENV]
    if (!dir) return null
    try {
      // The keeper reads the files of its runtime's pid: a child-process instance (on its main
      // thread) files under its parent's, numbered by its own pid, which no thread id reaches.
      return new InFlightRecorder(isMainThread ? InFlightFile.open(dir, process.ppid, process.pid) : InFlightFile.open(dir, process.pid, threadId))
    } catch {
      // The folder went away (a keeper that stopped): serving matters more than suspects.
      return null
    }
  }

  started(msg: RequestMessage): void {
    const bodyHash = !msg.body || msg.body.byteLength === 0 ? '-' : msg.body.byteLength > MAX_HASHED_BODY ? '?' : createHash('sha256').update(new Uint8Array(msg.body)).digest('hex').slice(0, 16)
    this.slots.set(msg.id, this.file.add(formatInFlight({ method: msg.method, url: msg.url, bodyHash })))
  }

  ended(id: number): void {
    const slot = this.slots.get(id)
    if (slot === undefined) return
    this.slots.delete(id)
    this.file.remove(slot)
  }
}

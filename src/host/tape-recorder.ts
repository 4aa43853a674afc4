import type { StoreReadOp } from '../protocol.js'
import type { StoredEntry } from '../state/index.js'
import { emptyTape, TAPE_LIMITS, type Tape, type TapeEntry } from '../tape.js'
import { interpose, type NondeterministicSource } from './nondeterminism.js'
import { currentRequestId } from './request-context.js'
import type { StoreClient } from './store-client.js'
import { TapeStream } from './tape-stream.js'

/** Tapes of the requests running now, by request id; null until this instance records. */
let tapes: Map<number, Tape> | null = null
/** Bytes of store values on each tape so far. */
const readBytes = new Map<number, number>()
/** Where each entry also goes as it is drawn, for a run that ends its instance (tape-stream.ts). */
let stream: TapeStream | null = null

/**
 * Turns recording on in this instance, for good: called when the dispatcher makes it
 * sacrificial (the `record` message). From then on every request's nondeterminism and store
 * reads are kept on its tape until it ends (its read cache is bypassed, so no read escapes the
 * tape); a failure's message carries the tape (`takeTape`). Each entry is also streamed to the
 * dispatcher with `send` as it is drawn (tape-stream.ts), for a run that ends its instance and
 * never sends a failure. Serving instances never get here and pay nothing.
 *
 * @example
 * ```ts
 * case 'record': startRecording(storeClient, (id, entry) => post({ type: 'tape-entry', id, ...entry })); break
 * ```
 */
export function startRecording(client: StoreClient, send: (id: number, entry: TapeEntry) => void): void {
  if (tapes) return
  tapes = new Map()
  stream = new TapeStream(send)
  interpose({
    value(source, live) {
      const value = live()
      keep(source, value)
      return value
    },
    uuid(live) {
      const value = live()
      keep('uuid', value)
      return value
    },
    bytes(target, live) {
      live()
      // Encoded only for a request's own draws: start-up code and timers of no request are not taped.
      if ((currentRequestId() ?? 0) > 0) keep('bytes', Buffer.from(target.buffer, target.byteOffset, target.byteLength).toString('base64'))
    },
  })
  // Every read goes to the dispatcher and onto the tape: a hit in the instance's read cache
  // (read-cache.ts) would be a read the tape never saw. Only ladder re-runs lose the cache.
  client.cached = () => null
  const read = client.read.bind(client)
  client.read = async (id: number, op: StoreReadOp): Promise<StoredEntry[]> => {
    try {
      const entries = await read(id, op)
      record(id, op, entries, null)
      return entries
    } catch (err) {
      record(id, op, null, (err as Error).message)
      throw err
    }
  }
}

/**
 * The tape of request `id`, taken off the recorder: empty when the request used nothing a tape
 * keeps (so a replay knows it needs nothing); undefined when this instance does not record.
 */
export function takeTape(id: number | null): Tape | undefined {
  if (!tapes || id === null || id <= 0) return undefined
  const tape = tapes.get(id) ?? emptyTape()
  endTape(id)
  return tape
}

/** Request `id` ended, or starts (again): its tape is dropped (one that failed was taken before). */
export function endTape(id: number): void {
  if (!tapes) return
  tapes.delete(id)
  readBytes.delete(id)
  stream!.end(id)
}

/** Keeps a value the current request drew on its tape, and streams it. */
function keep(source: NondeterministicSource, value: number | string): void {
  const id = currentRequestId()
  if (tapes === null || id === null || id <= 0) return
  let tape = tapes.get(id)
  if (!tape) tapes.set(id, (tape = emptyTape()))
  const list = tape[source] as (number | string)[]
  if (list.length < TAPE_LIMITS.values) {
    list.push(value)
    stream!.send(id, { source, value } as TapeEntry)
  } else {
    tape.truncated = true
    stream!.send(id, { source: 'cut', value: null })
  }
}

function record(id: number, op: StoreReadOp, entries: StoredEntry[] | null, error: string | null): void {
  if (!tapes) return
  let tape = tapes.get(id)
  if (!tape) tapes.set(id, (tape = emptyTape()))
  const size = (readBytes.get(id) ?? 0) + (entries ?? []).reduce((n, e) => n + e.value.byteLength, 0)
  if (tape.reads.length >= TAPE_LIMITS.reads || size > TAPE_LIMITS.readBytes) {
    tape.truncated = true
    stream!.send(id, { source: 'cut', value: null })
    return
  }
  readBytes.set(id, size)
  const kept = entries?.map((e) => ({ key: e.key, value: Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength).toString('base64'), version: e.version, expiresAt: e.expiresAt })) ?? null
  const read = { op, entries: kept, error }
  tape.reads.push(read)
  stream!.send(id, { source: 'read', value: read })
}

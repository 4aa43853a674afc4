import type { MessagePort } from 'node:worker_threads'
import type { FromInstance, StoreReadOp } from '../protocol.js'
import { emptyTape, TAPE_LIMITS, type Tape, type TapeRead } from '../tape.js'
import { interpose } from './nondeterminism.js'
import { currentRequestId } from './request-context.js'
import { StoreClient } from './store-client.js'

/** How a replay used its tape: values handed back, and calls the tape had no value for. */
export interface PlaybackReport {
  replayed: number
  /** Calls past the end of a list (served live), or reads with no recorded answer (served empty). */
  beyond: number
}

/**
 * Plays a tape back to the request numbered `requestId` (and only to it: the app's start-up
 * code and the requests replayed beside it get live values, and their store reads find an
 * empty store): Date.now, performance.now, Math.random, crypto.randomUUID and random bytes
 * return what they returned on the recorded run, in order, and store reads are answered with
 * the recorded entries, without any store. Nothing recorded is evaluated: values are numbers,
 * strings and bytes. Every value the request was handed, recorded or live, is kept in `used`:
 * a live run that reproduces a failure leaves the tape that replays it (`crashless triage`).
 *
 * @example
 * ```ts
 * const player = new TapePlayer(incident.tape, 1)
 * const state = new RequestState(1, player.storeClient, null, null)
 * ```
 */
export class TapePlayer {
  readonly report: PlaybackReport = { replayed: 0, beyond: 0 }
  readonly storeClient: StoreClient
  /** What the request was handed, in order: a tape of this run. */
  readonly used: Tape = emptyTape()
  private readonly reads: (TapeRead | null)[]
  private readonly lists: Tape

  constructor(
    tape: Tape,
    private readonly requestId: number,
    /** Told after each value or read handed back from the tape (a stalled replay can tell no more later). */
    private readonly replayed: (report: PlaybackReport) => void = () => {},
  ) {
    this.lists = { ...tape, now: [...tape.now], perf: [...tape.perf], random: [...tape.random], uuid: [...tape.uuid], bytes: [...tape.bytes] }
    this.reads = [...tape.reads]
    const answer = (msg: FromInstance): void => {
      if (msg.type !== 'store-read') return
      // The requests replayed beside it were not recorded: they find an empty store.
      const read = msg.id === this.requestId ? this.takeRead(msg.op) : null
      const entries = read ? (read.entries?.map((e) => ({ ...e, value: new Uint8Array(Buffer.from(e.value, 'base64')) })) ?? null) : []
      const error = read?.error ? { name: 'Error', message: read.error, code: 'CRASHLESS_ERR_STATE', stack: undefined } : null
      if (msg.id === this.requestId) keep(this.used, this.used.reads, read ?? { op: msg.op, entries: [], error: null })
      queueMicrotask(() => this.storeClient.receive({ type: 'store-result', id: msg.id, seq: msg.seq, entries, error }))
    }
    this.storeClient = new StoreClient({ postMessage: answer } as unknown as MessagePort)
    interpose({
      value: (source, live) => this.next(source, live),
      uuid: (live) => this.next('uuid', live),
      bytes: (target, live) => {
        const recorded = this.next<string | null>('bytes', () => null)
        if (recorded === null) {
          live()
          if (currentRequestId() === this.requestId) keep(this.used, this.used.bytes, Buffer.from(target.buffer, target.byteOffset, target.byteLength).toString('base64'))
          return
        }
        target.set(Buffer.from(recorded, 'base64').subarray(0, target.byteLength))
      },
    })
  }

  private next<T>(source: 'now' | 'perf' | 'random' | 'uuid' | 'bytes', live: () => T): T {
    if (currentRequestId() !== this.requestId) return live()
    const list = this.lists[source] as T[]
    if (list.length === 0) {
      this.report.beyond++
      const value = live()
      // A live random byte string is kept by the caller, once it is filled in.
      if (value !== null) keep(this.used, this.used[source] as T[], value)
      return value
    }
    this.report.replayed++
    this.replayed(this.report)
    const value = list.shift()!
    keep(this.used, this.used[source] as T[], value)
    return value
  }

  /** The recorded read of the same operation, the earliest unused; else the next unused in order. */
  private takeRead(op: StoreReadOp): TapeRead | null {
    const wanted = JSON.stringify(op)
    let index = this.reads.findIndex((r) => r !== null && JSON.stringify(r.op) === wanted)
    if (index < 0) {
      this.report.beyond++
      index = this.reads.findIndex((r) => r !== null)
      if (index < 0) return null
    } else {
      this.report.replayed++
      this.replayed(this.report)
    }
    const read = this.reads[index]!
    this.reads[index] = null
    return read
  }
}

function keep<T>(tape: Tape, list: T[], value: T): void {
  if (list.length < TAPE_LIMITS.values) list.push(value)
  else tape.truncated = true
}

import type { MessagePort } from 'node:worker_threads'
import type { FromInstance, StoreReadOp } from '../protocol.js'
import type { Tape, TapeRead } from '../tape.js'
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
 * code gets live values): Date.now, performance.now, Math.random, crypto.randomUUID and random
 * bytes return what they returned on the recorded run, in order, and store reads are answered
 * with the recorded entries, without any store. Nothing recorded is evaluated: values are
 * numbers, strings and bytes.
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
  private readonly reads: (TapeRead | null)[]

  constructor(
    private readonly tape: Tape,
    private readonly requestId: number,
  ) {
    this.reads = [...tape.reads]
    const answer = (msg: FromInstance): void => {
      if (msg.type !== 'store-read') return
      const read = this.takeRead(msg.op)
      const entries = read ? (read.entries?.map((e) => ({ ...e, value: new Uint8Array(Buffer.from(e.value, 'base64')) })) ?? null) : []
      const error = read?.error ? { name: 'Error', message: read.error, code: 'CRASHLESS_ERR_STATE', stack: undefined } : null
      queueMicrotask(() => this.storeClient.receive({ type: 'store-result', id: msg.id, seq: msg.seq, entries, error }))
    }
    this.storeClient = new StoreClient({ postMessage: answer } as unknown as MessagePort)
    interpose({
      value: (source, live) => this.next(this.tape[source], live),
      uuid: (live) => this.next(this.tape.uuid, live),
      bytes: (target, live) => {
        const recorded = this.next<string | null>(this.tape.bytes, () => null)
        if (recorded === null) return live()
        target.set(Buffer.from(recorded, 'base64').subarray(0, target.byteLength))
      },
    })
  }

  private next<T>(list: T[], live: () => T): T {
    if (currentRequestId() !== this.requestId) return live()
    if (list.length === 0) {
      this.report.beyond++
      return live()
    }
    this.report.replayed++
    return list.shift()!
  }

  /** The recorded read of the same operation, the earliest unused; else the next unused in order. */
  private takeRead(op: StoreReadOp): TapeRead | null {
    const wanted = JSON.stringify(op)
    let index = this.reads.findIndex((r) => r !== null && JSON.stringify(r.op) === wanted)
    if (index < 0) {
      this.report.beyond++
      index = this.reads.findIndex((r) => r !== null)
      if (index < 0) return null
    } else this.report.replayed++
    const read = this.reads[index]!
    this.reads[index] = null
    return read
  }
}

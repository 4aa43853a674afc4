import type { FromInstance, TapeEntryMessage } from '../protocol.js'
import { emptyTape, STREAM_LIMITS, TAPE_LIMITS, type Tape } from '../tape.js'

/** Runs of one instance whose streamed tapes are kept at most (a sacrificial instance holds a few). */
const MAX_RUNS = 32

interface Streamed {
  tape: Tape
  values: number
  bytes: number
}

/**
 * The tapes a recording (sacrificial) instance streams, entry by entry, of the runs it holds
 * (`tape-entry`, see src/host/tape-stream.ts): the dispatcher's copy, for a run that ends its
 * instance (a loop stalls it past its lease, its heap runs out, a child process dies) and so
 * never sends the tape it kept. A run that ends in the instance (answered, failed, aborted: its
 * own message carries its whole tape) drops its copy. Bounded here too, whatever the instance
 * sends: STREAM_LIMITS and TAPE_LIMITS per run, MAX_RUNS runs (the oldest go first).
 *
 * @example
 * ```ts
 * const tapes = new StreamedTapes()
 * tapes.add({ type: 'tape-entry', id: 7, source: 'now', value: 1_700_000_000_000 })
 * tapes.get(7, 'lease-expired') // { now: [1700000000000], ..., streamed: { ended: 'lease-expired' } }
 * ```
 */
export class StreamedTapes {
  private readonly runs = new Map<number, Streamed>()

  add(msg: TapeEntryMessage): void {
    let run = this.runs.get(msg.id)
    if (!run) {
      if (this.runs.size >= MAX_RUNS) this.runs.delete(this.runs.keys().next().value!)
      this.runs.set(msg.id, (run = { tape: emptyTape(), values: 0, bytes: 0 }))
    }
    const tape = run.tape
    switch (msg.source) {
      case 'cut':
        tape.truncated = true
        return
      case 'read': {
        const bytes = (msg.value.entries ?? []).reduce((n, e) => n + e.value.length, 0)
        // Values are base64 here (4 characters per 3 bytes): twice the instance's bound leaves room.
        if (tape.reads.length >= TAPE_LIMITS.reads || run.bytes + bytes > TAPE_LIMITS.readBytes * 2) tape.truncated = true
        else {
          run.bytes += bytes
          tape.reads.push(msg.value)
        }
        return
      }
      default:
        if (tape.truncated || run.values >= STREAM_LIMITS.values) tape.truncated = true
        else {
          run.values++
          ;(tape[msg.source] as (number | string)[]).push(msg.value)
        }
    }
  }

  /** A message from the instance: a run that ended there has its tape in its own message (or needs none), and its copy goes. */
  seen(msg: FromInstance): void {
    if (msg.type === 'response' || msg.type === 'end' || msg.type === 'request-failed' || msg.type === 'request-crashed' || msg.type === 'aborted') this.runs.delete(msg.id)
  }

  /** Run `id` starts there (again): a copy of an earlier run goes. */
  drop(id: number): void {
    this.runs.delete(id)
  }

  /**
   * What run `id` streamed so far, marked as streamed (`ended`: how it ended its instance, or null
   * while the instance runs on); undefined when it streamed nothing.
   */
  get(id: number, ended: string | null): Tape | undefined {
    const run = this.runs.get(id)
    return run ? { ...run.tape, streamed: { ended } } : undefined
  }

  /** Every run's copy, marked with how the instance ended: it is gone, and so are they. */
  takeAll(ended: string): Map<number, Tape> {
    const out = new Map<number, Tape>()
    for (const id of this.runs.keys()) out.set(id, this.get(id, ended)!)
    this.runs.clear()
    return out
  }
}

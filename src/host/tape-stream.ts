import { STREAM_LIMITS, type TapeEntry } from '../tape.js'

/** What one run has streamed so far. */
interface Sent {
  values: number
  bytes: number
  cut: boolean
}

/**
 * Sends a run's tape entries to the dispatcher as they are drawn, on a recording (sacrificial)
 * instance only. A run that ends its instance (a loop stalls it past its lease, its heap runs
 * out, it calls `process.abort()` in a child process) never sends the tape it kept
 * (tape-recorder.ts): what it streamed is all the incident will have, so each entry leaves at
 * once, not at the end of the turn. A worker's postMessage is queued at the receiving port when
 * it is called, so an entry sent just before a synchronous loop arrives while the loop spins
 * (test/faults/stall-tape.test.ts checks it). Bounded per run by STREAM_LIMITS: past them one
 * `cut` entry says the rest was not kept.
 *
 * @example
 * ```ts
 * const stream = new TapeStream((id, entry) => post({ type: 'tape-entry', id, ...entry }))
 * stream.send(7, { source: 'now', value: Date.now() })
 * ```
 */
export class TapeStream {
  private readonly runs = new Map<number, Sent>()

  constructor(private readonly post: (id: number, entry: TapeEntry) => void) {}

  /**
   * Streams `entry` of run `id`. A value past the run's bounds is not sent, nor any value after
   * it; the first such (or a `cut` entry from the recorder, whose own bounds a value or read
   * passed) sends one `cut` instead. Reads still go after a cut: the recorder bounds them itself.
   */
  send(id: number, entry: TapeEntry): void {
    const sent = this.sentOf(id)
    if (entry.source !== 'read' && entry.source !== 'cut') {
      const bytes = entry.source === 'bytes' ? entry.value.length : 0
      // Past a cut, no value goes: a list with a gap would hand later values to the wrong calls.
      if (sent.cut || sent.values >= STREAM_LIMITS.values || sent.bytes + bytes > STREAM_LIMITS.bytes) entry = { source: 'cut', value: null }
      else {
        sent.values++
        sent.bytes += bytes
      }
    }
    if (entry.source === 'cut') {
      if (sent.cut) return
      sent.cut = true
    }
    this.post(id, entry)
  }

  /** Run `id` ended (or starts again): its counts go. */
  end(id: number): void {
    this.runs.delete(id)
  }

  private sentOf(id: number): Sent {
    let sent = this.runs.get(id)
    if (!sent) this.runs.set(id, (sent = { values: 0, bytes: 0, cut: false }))
    return sent
  }
}

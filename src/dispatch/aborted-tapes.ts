import type { AbortedMessage } from '../protocol.js'
import type { Tape } from '../tape.js'
import type { Job } from './job.js'

/** Bound on the wait when no `leaseMs` is known: the instance's loop runs (a deadline, not a stall), so its answer is one message away. */
const DEFAULT_WAIT_MS = 1_000

/** The instance a run waits on: what it streamed of the run's tape is the fallback (see Instance.streamedTape). */
type Holder = { id: string; streamedTape?(id: number): Tape | undefined }

interface Waiting {
  job: Job
  instance: Holder
  timer: NodeJS.Timeout
  then: (tape: Tape | undefined) => void
}

/**
 * Re-runs that missed their deadline on a recording (sacrificial) instance, waiting for the
 * instance's answer to their `abort` (`aborted`, with the tape) before the ladder is told. A
 * missed deadline is not a failure inside the instance, so nothing else would carry the tape:
 * the store read a request hangs on would be lost. The wait is bounded by the run's lease (an
 * instance whose loop stops answering is killed by then) and ends at once if the instance is
 * lost; then the failure goes on with what the run streamed of its tape (src/host/tape-stream.ts)
 * until then, if anything.
 *
 * @example
 * ```ts
 * tapes.wait(job, instance, leaseMs, (tape) => guard.failed(job, { ...failure, tape }))
 * // later, from the instance: tapes.arrived(instance, msg)
 * ```
 */
export class AbortedTapes {
  private readonly waiting = new Map<number, Waiting>()

  /** Calls `then` with the tape of `job` once `instance` sends it, or with what it streamed after `waitMs` or its loss. */
  wait(job: Job, instance: Holder, waitMs: number | undefined, then: (tape: Tape | undefined) => void): void {
    this.settle(job.id, undefined)
    const timer = setTimeout(() => this.settle(job.id, instance.streamedTape?.(job.id)), waitMs ?? DEFAULT_WAIT_MS)
    timer.unref()
    this.waiting.set(job.id, { job, instance, timer, then })
  }

  /** An `aborted` message: the tape of a request waited for, or of an abort nobody waits on (a client that left). */
  arrived(instance: { id: string }, msg: AbortedMessage): void {
    if (this.waiting.get(msg.id)?.instance.id === instance.id) this.settle(msg.id, msg.tape)
  }

  /** `instance` was lost: its runs go on with what they streamed (`tapes`, from the loss). */
  lost(instance: { id: string }, tapes?: ReadonlyMap<number, Tape>): void {
    for (const [id, waiting] of [...this.waiting]) if (waiting.instance.id === instance.id) this.settle(id, tapes?.get(id))
  }

  private settle(id: number, tape: Tape | undefined): void {
    const waiting = this.waiting.get(id)
    if (!waiting) return
    this.waiting.delete(id)
    clearTimeout(waiting.timer)
    waiting.then(tape)
  }
}

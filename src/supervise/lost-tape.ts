import type { Tape } from '../tape.js'
import type { InstanceLoss } from './instance.js'

/**
 * The tape of run `id` on an instance that was lost: the one it sent with its death (`fatal`, when
 * that death was this run's), else what it streamed before it ended its instance (a stall, its
 * heap or Buffers, a child's signal: src/supervise/streamed-tapes.ts), else none.
 *
 * @example
 * ```ts
 * guard.failed(job, { ...failure, tape: lostTape(loss, job.id) })
 * ```
 */
export function lostTape(loss: Pick<InstanceLoss, 'fatal' | 'tapes'>, id: number): Tape | undefined {
  return loss.fatal?.requestId === id ? loss.fatal.tape : loss.tapes?.get(id)
}

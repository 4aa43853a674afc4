import type { GatheredMessage, RuntimeReport, RuntimeToKeeper } from '../keeper/index.js'

/** Past the keeper's own wait (1 s), an answer that never comes (the keeper died) is given up. */
const GIVE_UP_MS = 3_000

/**
 * The admin endpoint's side of a gather: asks the keeper for the other runtimes' reports and
 * resolves with what the keeper hands back (`gathered`), or with none when no answer comes.
 *
 * @example
 * ```ts
 * const peers = new PeerReports(send)
 * started.setPeers(slot, () => peers.ask())
 * // keeper -> runtime 'gathered':
 * peers.gathered(message)
 * ```
 */
export class PeerReports {
  private readonly waiting = new Map<number, (reports: readonly RuntimeReport[]) => void>()
  private nextId = 1

  constructor(private readonly send: (message: RuntimeToKeeper) => void) {}

  ask(): Promise<readonly RuntimeReport[]> {
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, []), GIVE_UP_MS)
      timer.unref()
      this.waiting.set(id, (reports) => {
        clearTimeout(timer)
        resolve(reports)
      })
      this.send({ type: 'gather', id })
    })
  }

  gathered(message: GatheredMessage): void {
    this.settle(message.id, message.reports)
  }

  private settle(id: number, reports: readonly RuntimeReport[]): void {
    const resolve = this.waiting.get(id)
    this.waiting.delete(id)
    resolve?.(reports)
  }
}

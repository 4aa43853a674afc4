import type { SuspectRecord } from './keeper-protocol.js'

/** Suspects kept at most: each death adds what was in flight, and a flood must not grow this forever. */
const MAX_SUSPECTS = 10_000

/**
 * Rx's suspects, one level up: the signatures that were in flight when a runtime process died.
 * A request that kills its whole process (`process.kill(process.pid)`, a native crash) cannot be
 * caught in the act, but it is always among those in flight at the death. The next runtime runs
 * suspects apart and reports each one that completes a request, which clears it. A signature in
 * flight at `maxDeaths` deaths without completing in between is poison. Benign signatures in
 * flight at one death complete within milliseconds on the next runtime, so they never reach two.
 *
 * @example
 * ```ts
 * const book = new SuspectBook(2)
 * book.died(['GET /kill', 'GET /'])   // [] : first death, both suspects
 * book.clear('GET /')                 // it completed on the next runtime
 * book.died(['GET /kill'])            // [{ signature: 'GET /kill', deaths: 2 }]
 * ```
 */
export class SuspectBook {
  private readonly deaths = new Map<string, number>()

  constructor(private readonly maxDeaths: number) {}

  /** A runtime died with `inFlight` running; returns the signatures now judged poison (and forgets them). */
  died(inFlight: Iterable<string>): SuspectRecord[] {
    const poison: SuspectRecord[] = []
    for (const signature of new Set(inFlight)) {
      const deaths = (this.deaths.get(signature) ?? 0) + 1
      if (deaths >= this.maxDeaths) {
        this.deaths.delete(signature)
        poison.push({ record: signature, deaths })
        continue
      }
      // Oldest first out when full: a map iterates in insertion order.
      if (!this.deaths.has(signature) && this.deaths.size >= MAX_SUSPECTS) this.deaths.delete(this.deaths.keys().next().value!)
      this.deaths.set(signature, deaths)
    }
    return poison
  }

  /** The signature completed a request: it did not cause the deaths it was counted for. */
  clear(signature: string): void {
    this.deaths.delete(signature)
  }

  /** Current suspects, for the runtime about to be promoted. */
  list(): SuspectRecord[] {
    return [...this.deaths].map(([record, deaths]) => ({ record, deaths }))
  }
}

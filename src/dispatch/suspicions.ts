import { routeOfSignature } from '../immunity/index.js'
import type { Job } from './job.js'

/** One signature under suspicion. */
export interface Suspicion {
  /** Requests with the signature waiting for the verdict. */
  held: Job[]
  /**
   * A request with the signature is being tried now (the one stalling an instance, or a copy
   * run alone on a sacrificial instance). False between a failure and the next probe: the next
   * copy to arrive is the probe.
   */
  probing: boolean
  /** The probe running alone on a sacrificial instance, if any (a trial may adopt it). */
  probe: Job | null
  /** When it was opened or last failed (ms, performance.now()). */
  since: number
  /** Its route runs apart meanwhile (a stall blamed on it; see isRouteSuspected). */
  routeWide: boolean
}

/** Suspicions remembered at most; past that the oldest without a probe or waiting requests go. */
const MAX_SUSPICIONS = 10_000

/**
 * Signatures suspected of stalling an instance (or of a loss nobody could be blamed for), each
 * with the requests like it that wait for the verdict. A suspicion is not a verdict: it only
 * keeps copies away from serving instances, one probe at a time, until one completes (cleared),
 * fails alone on a sacrificial instance (the ladder or the table decides), or it is forgotten
 * after `idleMs` with nothing to probe.
 *
 * @example
 * ```ts
 * const suspicions = new Suspicions(600_000)
 * suspicions.open('GET /spin #-', true)
 * suspicions.get('GET /spin #-')?.held.push(job) // waits for the verdict
 * ```
 */
export class Suspicions {
  private readonly map = new Map<string, Suspicion>()
  /** Open suspicions per route. */
  private readonly routes = new Map<string, number>()

  constructor(
    private readonly idleMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.map.size
  }

  /** The live suspicion of a signature; an idle one past `idleMs` is forgotten on the way. */
  get(signature: string): Suspicion | undefined {
    const suspicion = this.map.get(signature)
    if (suspicion && !suspicion.probing && suspicion.held.length === 0 && this.now() - suspicion.since > this.idleMs) {
      this.delete(signature)
      return undefined
    }
    return suspicion
  }

  /**
   * True while a request of `route` is suspected: its other requests (other signatures, which
   * the suspicion does not hold) had better run apart, since a flood of distinct loops on one
   * route would otherwise cost a serving instance each before the bulkhead closes.
   */
  isRouteSuspected(route: string): boolean {
    return this.routes.has(route)
  }

  /**
   * Opens a suspicion (or marks an open one as probed again, by `probe` if it runs alone);
   * returns it. `routeWide`: its route's other requests run apart meanwhile.
   */
  open(signature: string, probing: boolean, probe: Job | null = null, routeWide = false): Suspicion {
    let suspicion = this.map.get(signature)
    if (!suspicion) {
      suspicion = { held: [], probing, probe, since: this.now(), routeWide: false }
      this.map.set(signature, suspicion)
    } else {
      suspicion.probing ||= probing
      if (probe) suspicion.probe = probe
    }
    if (routeWide && !suspicion.routeWide) {
      suspicion.routeWide = true
      const route = routeOfSignature(signature)
      this.routes.set(route, (this.routes.get(route) ?? 0) + 1)
    }
    if (this.map.size > MAX_SUSPICIONS) this.trim()
    return suspicion
  }

  /** Ends a suspicion; returns the requests it held and its probe, if one runs. */
  close(signature: string): { held: Job[]; probe: Job | null } {
    const suspicion = this.map.get(signature)
    this.delete(signature)
    const probe = suspicion?.probe
    return { held: suspicion?.held ?? [], probe: probe && !probe.done ? probe : null }
  }

  private trim(): void {
    for (const [signature, suspicion] of this.map) {
      if (this.map.size <= MAX_SUSPICIONS) return
      if (!suspicion.probing && suspicion.held.every((job) => job.done)) this.delete(signature)
    }
  }

  private delete(signature: string): void {
    const suspicion = this.map.get(signature)
    if (!suspicion || !this.map.delete(signature) || !suspicion.routeWide) return
    const route = routeOfSignature(signature)
    const open = (this.routes.get(route) ?? 1) - 1
    if (open > 0) this.routes.set(route, open)
    else this.routes.delete(route)
  }
}

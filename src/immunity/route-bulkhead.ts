/** One route's recent failures. */
interface RouteRecord {
  /** Distinct failing signatures seen on the route within the window, with when each was seen. */
  readonly signatures: Map<string, number>
  /** Epoch ms until which the route runs apart; 0 when it does not. */
  until: number
}

export interface BulkheadOptions {
  /** Distinct failing signatures on one route (within `windowMs`) that put the route apart; 0 never does. */
  signatures: number
  /** How long failures are remembered and a route stays apart, in ms. */
  windowMs: number
}

/**
 * Routes under attack (SRS/Rx, issue "signatures"): when many *distinct* signatures fail on the
 * same route, someone is probably varying bytes to dodge the per-signature quarantine. From then
 * on that route's requests run on sacrificial instances only, so whatever they do cannot hurt
 * other routes; the route itself keeps being served, only apart. Bounded: few routes are tracked.
 *
 * @example
 * ```ts
 * const bulkhead = new RouteBulkhead({ signatures: 3, windowMs: 60_000 })
 * bulkhead.recordFailure('GET /search', 'GET /search?q=a #-')
 * bulkhead.recordFailure('GET /search', 'GET /search?q=b #-')
 * bulkhead.recordFailure('GET /search', 'GET /search?q=c #-') // true: now apart
 * bulkhead.isApart('GET /search')                            // true
 * ```
 */
export class RouteBulkhead {
  private readonly routes = new Map<string, RouteRecord>()
  private static readonly MAX_ROUTES = 1_000

  constructor(
    private readonly options: BulkheadOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while some route runs apart (the fast path skips computing route keys otherwise). */
  get active(): boolean {
    return this.routes.size > 0
  }

  /** Records a failing signature on a route; true when this failure puts the route apart. */
  recordFailure(route: string, signature: string): boolean {
    if (this.options.signatures <= 0) return false
    const now = this.now()
    let record = this.routes.get(route)
    if (!record) {
      record = { signatures: new Map(), until: 0 }
      this.routes.set(route, record)
      if (this.routes.size > RouteBulkhead.MAX_ROUTES) this.routes.delete(this.routes.keys().next().value as string)
    }
    for (const [seen, at] of record.signatures) if (at + this.options.windowMs <= now) record.signatures.delete(seen)
    record.signatures.set(signature, now)
    if (record.until > now || record.signatures.size < this.options.signatures) return false
    record.until = now + this.options.windowMs
    return true
  }

  /**
   * Takes back a failure recorded for `signature` on `route`: it was a suspicion (a stall on a
   * serving instance, counted at once so a flood of loops is put apart without waiting a lease
   * each) that turned out wrong, the request completed. Without this, a route whose distinct
   * requests now and then run longer than it taught the dispatcher collects "failures" that never
   * failed, and is put apart for a whole window. A route already apart stays apart.
   */
  retract(route: string, signature: string): void {
    this.routes.get(route)?.signatures.delete(signature)
  }

  /** True when the route's requests must run on sacrificial instances. */
  isApart(route: string): boolean {
    const record = this.routes.get(route)
    if (!record) return false
    const now = this.now()
    if (record.until > now) return true
    const newest = Math.max(0, ...record.signatures.values())
    if (newest + this.options.windowMs <= now) this.routes.delete(route)
    return false
  }

  /** Routes running apart now, with when that ends. */
  list(): { route: string; until: number }[] {
    const now = this.now()
    return [...this.routes].filter(([, r]) => r.until > now).map(([route, r]) => ({ route, until: r.until }))
  }
}

/**
 * What the immunity table knows about a signature, by how much it costs to forget:
 * - `failed`: failures counted, nothing decided yet. Cheap to lose: the next failures recount.
 * - `cured`: a tweak was found; losing it re-runs the ladder (a few sacrificial instances).
 * - `quarantined`: poison; losing it lets the poison run and crash instances again.
 */
export type Standing = 'failed' | 'cured' | 'quarantined'

/** A route's signatures that are not quarantined, each set oldest first. */
interface RouteSets {
  failed: Set<string>
  cured: Set<string>
}

/**
 * The order in which a full immunity table forgets: failure records before cures before
 * quarantines, oldest first within each standing; and, per route, its own failure records before
 * its own cures. Every operation is O(1): Sets iterate in insertion order, so the first element
 * of a set is its oldest. "Oldest" is the signature whose standing was set or renewed longest
 * ago ({@link place} puts it last again).
 *
 * Expiry is not handled here: the table drops expired entries before asking for a victim.
 *
 * @example
 * ```ts
 * const order = new EvictionOrder()
 * order.place('GET /boom #-', 'quarantined', 'GET /boom')
 * order.place('GET /x?v=1 #-', 'failed', 'GET /x')
 * order.next() // 'GET /x?v=1 #-': a failure record goes before any quarantine, however new
 * ```
 */
export class EvictionOrder {
  private readonly standings = new Map<string, { standing: Standing; route: string }>()
  private readonly byStanding: Record<Standing, Set<string>> = { failed: new Set(), cured: new Set(), quarantined: new Set() }
  private readonly byRoute = new Map<string, RouteSets>()

  /** The route a signature was placed with. */
  routeOf(signature: string): string | undefined {
    return this.standings.get(signature)?.route
  }

  /**
   * Records a signature's standing, making it the youngest of that standing. `route` is only
   * needed the first time: a signature keeps its route.
   */
  place(signature: string, standing: Standing, route?: string): void {
    const known = this.standings.get(signature)
    const at = known?.route ?? route
    if (at === undefined) throw new Error(`EvictionOrder.place: no route for a new signature (${signature})`)
    if (known) this.unlink(signature, known.standing, at)
    this.standings.set(signature, { standing, route: at })
    this.byStanding[standing].add(signature)
    if (standing === 'quarantined') return
    let sets = this.byRoute.get(at)
    if (!sets) this.byRoute.set(at, (sets = { failed: new Set(), cured: new Set() }))
    sets[standing].add(signature)
  }

  remove(signature: string): void {
    const known = this.standings.get(signature)
    if (!known) return
    this.standings.delete(signature)
    this.unlink(signature, known.standing, known.route)
  }

  /** How many signatures of `route` are not quarantined (the per-route bound counts these). */
  unquarantined(route: string): number {
    const sets = this.byRoute.get(route)
    return sets ? sets.failed.size + sets.cured.size : 0
  }

  /** The signature to forget when the table is full: the oldest failure record, else cure, else quarantine. */
  next(): string | undefined {
    return first(this.byStanding.failed) ?? first(this.byStanding.cured) ?? first(this.byStanding.quarantined)
  }

  /** The signature to forget when `route` holds too many: its oldest failure record, else its oldest cure. */
  nextOf(route: string): string | undefined {
    const sets = this.byRoute.get(route)
    return sets ? (first(sets.failed) ?? first(sets.cured)) : undefined
  }

  private unlink(signature: string, standing: Standing, route: string): void {
    this.byStanding[standing].delete(signature)
    if (standing === 'quarantined') return
    const sets = this.byRoute.get(route)
    if (!sets) return
    sets[standing].delete(signature)
    // Routes come and go with the flood: an empty one must not stay behind.
    if (sets.failed.size === 0 && sets.cured.size === 0) this.byRoute.delete(route)
  }
}

function first(set: Set<string>): string | undefined {
  for (const value of set) return value
  return undefined
}

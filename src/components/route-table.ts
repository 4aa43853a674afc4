/** `/` and `?`: where a path segment, or the path, ends. */
const SLASH = 47
const QUERY = 63

/**
 * Which component a request goes to, by the longest route prefix its URL starts with (on a
 * segment boundary: `/bids` takes `/bids`, `/bids/7` and `/bids?x`, not `/bidsx`); the default
 * one when none does. Looked up once per request, so it is a precomputed list, longest prefix
 * first, scanned with `startsWith` and one character compare: no allocation, no regex. With no
 * prefix at all (no components configured) it is one length check.
 *
 * @example
 * ```ts
 * const table = new RouteTable([['/bids', bids], ['/bids/admin', admin]], fallback)
 * table.route('/bids/admin/x') // admin
 * table.route('/bidsx')        // fallback
 * ```
 */
export class RouteTable<T> {
  private readonly prefixes: string[]
  private readonly targets: T[]

  constructor(routes: readonly (readonly [string, T])[], private readonly fallback: T) {
    const sorted = [...routes].sort((a, b) => b[0].length - a[0].length)
    this.prefixes = sorted.map(([prefix]) => prefix)
    this.targets = sorted.map(([, target]) => target)
  }

  /** The target of `url` (a request target as Node gives it: path and query). */
  route(url: string): T {
    const prefixes = this.prefixes
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i]!
      if (!url.startsWith(prefix)) continue
      const next = url.length === prefix.length ? SLASH : url.charCodeAt(prefix.length)
      if (next === SLASH || next === QUERY) return this.targets[i]!
    }
    return this.fallback
  }
}

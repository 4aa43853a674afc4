/**
 * The `limit` smallest keys greater than `after`, in order, in one pass over `keys` and without
 * sorting them all: a page of the immunity table (10,000 entries at most) costs O(n log limit)
 * string comparisons and copies only the page, so an admin client paging through it never
 * holds the thread that serves traffic for long.
 *
 * @example
 * ```ts
 * firstAfter(['d', 'a', 'c', 'b'], 'a', 2) // ['b', 'c']
 * ```
 */
export function firstAfter(keys: Iterable<string>, after: string | null, limit: number): string[] {
  const page: string[] = []
  if (limit <= 0) return page
  for (const key of keys) {
    if (after !== null && key <= after) continue
    if (page.length === limit && key >= page[limit - 1]!) continue
    // Binary search for its place; the page stays sorted and at most `limit` long.
    let lo = 0
    let hi = page.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (page[mid]! < key) lo = mid + 1
      else hi = mid
    }
    page.splice(lo, 0, key)
    if (page.length > limit) page.pop()
  }
  return page
}

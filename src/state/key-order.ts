/**
 * Key order shared by every backend: Unicode code point order, which equals the byte order of
 * UTF-8 (what SQLite BLOBs and Redis sorted sets compare). JavaScript's `<` compares UTF-16 code
 * units instead, which puts astral characters (emoji) before U+E000..U+FFFF; the memory backend
 * sorts with `compareKeys` so that a listing is the same page by page on every backend.
 */

/**
 * Compares two well-formed strings in code point order.
 *
 * @example
 * ```ts
 * ['\u{1F600}', '\uFFFD'].sort(compareKeys) // ['\uFFFD', '\u{1F600}'], as UTF-8 bytes sort
 * ```
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

/** Moves surrogates (D800..DFFF, the start of an astral character) above E000..FFFF. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800
}

/**
 * The smallest byte string greater than every string starting with `prefix`, or null when no
 * upper bound is needed (empty prefix). UTF-8 never contains 0xFF, so incrementing the last
 * byte cannot overflow.
 *
 * @example
 * ```ts
 * prefixUpperBound(Buffer.from('user:')) // <Buffer 75 73 65 72 3b> ('user;')
 * ```
 */
export function prefixUpperBound(prefix: Buffer): Buffer | null {
  if (prefix.length === 0) return null
  const bound = Buffer.from(prefix)
  bound[bound.length - 1]! += 1
  return bound
}

/** The byte string above every valid UTF-8 key: a bound for an empty prefix. */
export const ABOVE_ALL_KEYS = Buffer.from([0xff])

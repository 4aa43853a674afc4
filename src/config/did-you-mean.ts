/**
 * "Did you mean" suggestions for unknown option names. A misspelt option would otherwise be
 * rejected with nothing but "unknown option", and the user has to go and read the docs to
 * find the one letter they got wrong.
 */

/**
 * The optimal-string-alignment distance between `a` and `b`: the number of single-character
 * insertions, deletions, substitutions and swaps of two adjacent characters that turn one
 * into the other. Swaps count as one edit because `laeseMs` is one slip of the fingers, not two.
 *
 * @example
 * ```ts
 * editDistance('leasMs', 'leaseMs') // 1
 * editDistance('qeueu', 'queue')    // 2
 * ```
 */
export function editDistance(a: string, b: string): number {
  // Rows of the classic dynamic-programming table; three are enough for the swap rule.
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, before[j - 2] + 1)
      }
      current.push(best)
    }
    before = previous
    previous = current
  }
  return previous[b.length]
}

/**
 * The candidate `word` was most likely meant to be, or `undefined` when none is close enough
 * to be a plausible typo. Comparison ignores case (`maxbodybytes` finds `maxBodyBytes`); a
 * candidate that starts with `word` also counts (`heap` finds `heapMb`), as people often drop
 * the unit suffix.
 *
 * @example
 * ```ts
 * closest('concurency', ['concurrency', 'queue']) // 'concurrency'
 * closest('port', ['host'])                        // undefined: two edits in four letters
 * ```
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const needle = word.toLowerCase()
  // A third of the word: enough for a typo or two, too little to turn `port` into `host`.
  const allowed = Math.max(1, Math.floor(needle.length / 3))
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const hay = candidate.toLowerCase()
    const distance = needle.length >= 4 && hay.startsWith(needle) ? 1 : editDistance(needle, hay)
    if (distance <= allowed && distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

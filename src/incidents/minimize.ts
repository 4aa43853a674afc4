import type { ReplayRequest } from '../host/index.js'

/** One removable part of a request: a query parameter, a header, or a JSON or form body field. */
export interface Part {
  where: 'query' | 'header' | 'body'
  name: string
  /** Index among parts of the same name and place (a repeated parameter). */
  index: number
}

/**
 * The parts a request can lose: query parameters, headers (but `host`, which Node needs to
 * build a URL), and the top-level fields of a JSON object body or a form body. A body of
 * another kind is kept whole.
 *
 * @example
 * ```ts
 * partsOf({ method: 'GET', url: '/u?id=1&x=2', headers: [['accept', '*\/*']], body: null, bodyEncoding: 'utf8', session: false })
 * // [{ where: 'query', name: 'id', index: 0 }, { where: 'query', name: 'x', index: 0 }, { where: 'header', name: 'accept', index: 0 }]
 * ```
 */
export function partsOf(request: ReplayRequest): Part[] {
  const parts: Part[] = []
  const seen = new Map<string, number>()
  const add = (where: Part['where'], name: string): void => {
    const key = `${where}:${name}`
    const index = seen.get(key) ?? 0
    seen.set(key, index + 1)
    parts.push({ where, name, index })
  }
  for (const [name] of new URLSearchParams(queryOf(request.url))) add('query', name)
  for (const [name] of request.headers) if (name.toLowerCase() !== 'host') add('header', name)
  const body = bodyFields(request)
  if (body) for (const name of body.names) add('body', name)
  return parts
}

/** The request with only `kept` of its parts (the others removed). */
export function withParts(request: ReplayRequest, all: readonly Part[], kept: readonly Part[]): ReplayRequest {
  const keep = new Set(kept.map(keyOf))
  const drop = all.filter((p) => !keep.has(keyOf(p)))
  const dropped = (where: Part['where'], name: string, index: number): boolean => drop.some((p) => p.where === where && p.name === name && p.index === index)
  const counter = (): ((name: string) => number) => {
    const counts = new Map<string, number>()
    return (name) => {
      const n = counts.get(name) ?? 0
      counts.set(name, n + 1)
      return n
    }
  }
  const nthQuery = counter()
  const query = [...new URLSearchParams(queryOf(request.url))].filter(([name]) => !dropped('query', name, nthQuery(name)))
  const path = request.url.split('?')[0]!
  // Untouched, the query keeps its own spelling (`%21` and `!` are one value, not one signature).
  const url = !drop.some((p) => p.where === 'query') ? request.url : query.length > 0 ? `${path}?${new URLSearchParams(query).toString()}` : path
  const nthHeader = counter()
  const headers = request.headers.filter(([name]) => name.toLowerCase() === 'host' || !dropped('header', name, nthHeader(name)))
  let body = request.body
  const fields = bodyFields(request)
  if (fields) body = fields.without(new Set(drop.filter((p) => p.where === 'body').map((p) => p.name)))
  return { ...request, url, headers, body }
}

/** How a part is named in a report: `query id`, `header x-trace`, `body note`. */
export function describePart(part: Part): string {
  return `${part.where} ${part.name}`
}

/**
 * Delta debugging (Zeller's ddmin): the smallest subset of `parts` for which `fails` still
 * holds, found by removing chunks, then complements, at ever finer granularity. `fails` is
 * called at most `budget` times; past that the smallest failing subset found so far is kept.
 *
 * @example
 * ```ts
 * await ddmin(parts, async (kept) => (await replayWith(kept)).reproduced, 40)
 * ```
 */
export async function ddmin<T>(parts: readonly T[], fails: (kept: T[]) => Promise<boolean>, budget: number): Promise<{ kept: T[]; tests: number }> {
  let current = [...parts]
  let n = 2
  let tests = 0
  const test = async (subset: T[]): Promise<boolean> => {
    tests++
    return fails(subset)
  }
  while (current.length >= 2 && tests < budget) {
    const chunks = split(current, n)
    let reduced = false
    for (const chunk of chunks) {
      if (tests >= budget) break
      if (await test(chunk)) {
        current = chunk
        n = 2
        reduced = true
        break
      }
    }
    if (!reduced && n > 2) {
      for (const chunk of chunks) {
        if (tests >= budget) break
        const complement = current.filter((p) => !chunk.includes(p))
        if (await test(complement)) {
          current = complement
          n = Math.max(n - 1, 2)
          reduced = true
          break
        }
      }
    }
    if (!reduced) {
      if (n >= current.length) break
      n = Math.min(current.length, n * 2)
    }
  }
  // A single part left may not be needed at all.
  if (current.length === 1 && tests < budget && (await test([]))) current = []
  return { kept: current, tests }
}

function split<T>(list: T[], n: number): T[][] {
  const out: T[][] = []
  const size = Math.ceil(list.length / n)
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}

function keyOf(p: Part): string {
  return `${p.where}\u0000${p.name}\u0000${p.index}`
}

function queryOf(url: string): string {
  const at = url.indexOf('?')
  return at < 0 ? '' : url.slice(at + 1)
}

/** The top-level fields of a JSON object or form body, and how to write the body without some. */
function bodyFields(request: ReplayRequest): { names: string[]; without: (names: Set<string>) => string } | null {
  if (request.body === null || request.bodyEncoding !== 'utf8') return null
  const type = request.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1].split(';')[0]!.trim().toLowerCase() ?? ''
  if (type === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(request.body)
    return { names: [...new Set(form.keys())], without: (names) => new URLSearchParams([...form].filter(([name]) => !names.has(name))).toString() }
  }
  try {
    const value = JSON.parse(request.body) as unknown
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
    const object = value as Record<string, unknown>
    return { names: Object.keys(object), without: (names) => JSON.stringify(Object.fromEntries(Object.entries(object).filter(([name]) => !names.has(name)))) }
  } catch {
    return null
  }
}

/**
 * The checks one option value goes through. Each returns the value to keep (possibly
 * normalized) or what was expected, and leaves it to the caller to build the error, because
 * only the caller knows the option's path and where the value came from.
 */

/** A checked value, or a description of what was expected instead. */
export type CheckResult =
  | { ok: true; value: unknown }
  | { ok: false; expected: string; got: unknown; at?: string }

/** Checks and normalizes one option value. */
export type Check = (value: unknown) => CheckResult

/** The largest delay setTimeout honours; beyond it Node fires after 1 ms instead, with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * An integer within `[min, max]`. Fractions, NaN, Infinity and numeric strings are refused:
 * a count of instances or bytes of `2.5` or `"3000"` is a mistake, not something to round.
 *
 * @example
 * ```ts
 * integer({ min: 1 })(-1) // { ok: false, expected: 'a positive integer', got: -1 }
 * ```
 */
export function integer(range: { min: number; max?: number; expected?: string }): Check {
  const expected = range.expected ?? describeRange(range.min, range.max)
  return (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) return { ok: false, expected, got: value }
    if (value < range.min || (range.max !== undefined && value > range.max)) return { ok: false, expected, got: value }
    return { ok: true, value }
  }
}

function describeRange(min: number, max: number | undefined): string {
  const base = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`
  return max === undefined ? base : `${base} up to ${max}`
}

/** A non-empty string, kept as written. */
export const text: Check = (value) =>
  typeof value === 'string' && value.trim() !== ''
    ? { ok: true, value }
    : { ok: false, expected: 'a non-empty string', got: value }

/** true or false; `'false'` or 0 are refused rather than guessed at. */
export const boolean: Check = (value) =>
  typeof value === 'boolean' ? { ok: true, value } : { ok: false, expected: 'true or false', got: value }

/**
 * A bearer token: at least 16 visible ASCII characters (what a header can carry unmangled).
 * Rejected values are never echoed: they are probably real secrets with a typo.
 */
export const secret: Check = (value) =>
  typeof value === 'string' && value.length >= 16 && /^[\x21-\x7e]+$/.test(value)
    ? { ok: true, value }
    : { ok: false, expected: 'a token of at least 16 visible ASCII characters (no spaces)', got: typeof value === 'string' ? `a string of ${value.length} characters` : value }

/**
 * A key signing session cookies: at least 32 characters (HMAC-SHA256 wants 256 bits of key),
 * or a non-empty list of such keys (the first signs, all verify: rotation). Never echoed.
 */
export const sessionSecret: Check = (value) => {
  const expected = 'a secret of at least 32 characters, or a non-empty list of them'
  const ok = (key: unknown) => typeof key === 'string' && key.length >= 32
  if (typeof value === 'string') return ok(value) ? { ok: true, value } : { ok: false, expected, got: `a string of ${value.length} characters` }
  if (Array.isArray(value) && value.length > 0) {
    const bad = value.findIndex((key) => !ok(key))
    if (bad < 0) return { ok: true, value: [...value] }
    const key: unknown = value[bad]
    return { ok: false, expected, got: typeof key === 'string' ? `a string of ${key.length} characters` : key, at: `[${bad}]` }
  }
  return { ok: false, expected, got: value }
}

/** A cookie name: an RFC 6265 token (what a `Cookie` header can carry unquoted). */
export const cookieName: Check = (value) =>
  typeof value === 'string' && TOKEN.test(value)
    ? { ok: true, value }
    : { ok: false, expected: 'a cookie name (letters, digits and !#$%&\'*+-.^_`|~)', got: value }

/** A cookie `Path`: starts with `/`, no `;` or control characters. */
export const cookiePath: Check = (value) =>
  typeof value === 'string' && /^\/[\x20-\x3a\x3c-\x7e]*$/.test(value)
    ? { ok: true, value }
    : { ok: false, expected: 'a path starting with / (no ; or control characters)', got: value }

/**
 * A path on the service port that crashless keeps for itself (`probes.path`): `/` and one or
 * more segments of RFC 3986 path characters, no trailing `/`, no query or fragment, no `.` or
 * `..` segment (a client could not reach it as written).
 *
 * @example
 * ```ts
 * probePath('/.crashless') // { ok: true, value: '/.crashless' }
 * probePath('/')           // { ok: false, … }
 * ```
 */
export const probePath: Check = (value) =>
  typeof value === 'string' && /^(\/[A-Za-z0-9\-._~!$&'()*+,;=:@%]+)+$/.test(value) && !/\/\.\.?(\/|$)/.test(value)
    ? { ok: true, value }
    : { ok: false, expected: 'a path such as "/.crashless": starting with /, no trailing /, no query, fragment or dot segments', got: value }

/** One of a fixed set of strings, matched exactly so `'Fetch'` is not silently accepted. */
export function oneOf(choices: readonly string[]): Check {
  const expected = `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`
  return (value) =>
    typeof value === 'string' && choices.includes(value) ? { ok: true, value } : { ok: false, expected, got: value }
}

/**
 * `'auto'` or an integer within `[min, max]` (the `runtimes` option).
 *
 * @example
 * ```ts
 * integerOrAuto({ min: 1, max: 64 })('auto') // { ok: true, value: 'auto' }
 * integerOrAuto({ min: 1, max: 64 })(0)      // { ok: false, expected: "'auto' or an integer from 1 to 64", got: 0 }
 * ```
 */
export function integerOrAuto(range: { min: number; max: number }): Check {
  const expected = `'auto' or an integer from ${range.min} to ${range.max}`
  const inRange = integer(range)
  return (value) => (value === 'auto' ? { ok: true, value } : inRange(value).ok ? { ok: true, value } : { ok: false, expected, got: value })
}

/**
 * A `redis://` or `rediss://` URL, kept as written: ioredis would read anything else as a host
 * name or a path and fail later with a less helpful message.
 */
export const redisUrl: Check = (value) => {
  const expected = 'a redis:// or rediss:// URL'
  if (typeof value !== 'string') return { ok: false, expected, got: value }
  try {
    const url = new URL(value)
    if (url.protocol === 'redis:' || url.protocol === 'rediss:') return { ok: true, value }
  } catch {
    // Falls through to the refusal below.
  }
  return { ok: false, expected, got: value }
}

/** RFC 9110 §5.6.2 `token`: what HTTP method and header names are made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * An HTTP header name, lower-cased: Node hands the dispatcher lower-case header names, so
 * `Idempotency-Key` as written must compare equal to what arrives.
 */
export const headerName: Check = (value) =>
  typeof value === 'string' && TOKEN.test(value)
    ? { ok: true, value: value.toLowerCase() }
    : { ok: false, expected: 'an HTTP header name', got: value }

/**
 * A list of HTTP methods, upper-cased and without duplicates. Upper-cased because Node
 * reports `req.method` upper-case and a config saying `['get']` means GET. An empty list is
 * allowed: it turns replay off for everything without an idempotency key.
 */
export const methodList: Check = (value) => {
  if (!Array.isArray(value)) return { ok: false, expected: 'an array of HTTP methods', got: value }
  const methods = new Set<string>()
  for (const [i, method] of value.entries()) {
    if (typeof method !== 'string' || !TOKEN.test(method)) {
      return { ok: false, expected: 'an HTTP method such as "GET"', got: method, at: `[${i}]` }
    }
    methods.add(method.toUpperCase())
  }
  return { ok: true, value: [...methods] }
}

/**
 * The shape of a request signature (`immunity.signature`): `query` is 'all', 'none' or a list of
 * parameter names; `body` a boolean. Missing fields take their defaults.
 *
 * @example
 * ```ts
 * signatureSpec({ query: ['id'] }) // { ok: true, value: { query: ['id'], body: true } }
 * ```
 */
export const signatureSpec: Check = (value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, expected: 'an object like { query: "all", body: true }', got: value }
  const spec = value as Record<string, unknown>
  for (const key of Object.keys(spec)) {
    if (key !== 'query' && key !== 'body' && key !== 'key') return { ok: false, expected: 'only the fields query, body and key', got: key, at: `.${key}` }
  }
  const query = spec.query ?? 'all'
  const queryOk = query === 'all' || query === 'none' || (Array.isArray(query) && query.every((name) => typeof name === 'string' && name !== ''))
  if (!queryOk) return { ok: false, expected: '"all", "none" or an array of query parameter names', got: query, at: '.query' }
  const body = spec.body ?? true
  if (typeof body !== 'boolean') return { ok: false, expected: 'true or false', got: body, at: '.body' }
  if (spec.key !== undefined && typeof spec.key !== 'function') return { ok: false, expected: 'a function (parts) => string', got: spec.key, at: '.key' }
  const checked: Record<string, unknown> = { query: Array.isArray(query) ? [...new Set(query as string[])] : query, body }
  if (spec.key !== undefined) checked.key = spec.key
  return { ok: true, value: checked }
}

/**
 * Redaction rules for incidents (`incidents.redact`): `headers`, header names, `bodyFields`,
 * JSON or form field names, and `env`, environment variable names, each a list of non-empty
 * strings; names are kept lower-cased.
 *
 * @example
 * ```ts
 * redactSpec({ headers: ['X-Tenant'] }) // { ok: true, value: { headers: ['x-tenant'], bodyFields: [], env: [] } }
 * ```
 */
export const redactSpec: Check = (value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, expected: 'an object like { headers: ["x-tenant"], bodyFields: ["ssn"], env: ["LICENSE"] }', got: value }
  const spec = value as Record<string, unknown>
  const out: Record<string, string[]> = { headers: [], bodyFields: [], env: [] }
  for (const [key, list] of Object.entries(spec)) {
    if (key !== 'headers' && key !== 'bodyFields' && key !== 'env') return { ok: false, expected: 'only the fields headers, bodyFields and env', got: key, at: `.${key}` }
    if (list === undefined) continue
    if (!Array.isArray(list)) return { ok: false, expected: 'an array of names', got: list, at: `.${key}` }
    const bad = list.findIndex((name) => typeof name !== 'string' || name.trim() === '')
    if (bad >= 0) return { ok: false, expected: 'a non-empty name', got: list[bad] as unknown, at: `.${key}[${bad}]` }
    out[key] = [...new Set((list as string[]).map((name) => name.toLowerCase()))]
  }
  return { ok: true, value: out }
}

/**
 * A short, readable rendering of a bad value for an error message: strings quoted (so an
 * empty string or `"3000"` is visible as a string), structures named rather than dumped.
 *
 * @example
 * ```ts
 * describeValue('3000') // '"3000"'
 * describeValue([1])    // 'an array'
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    case 'function':
      return 'a function'
    case 'object':
      return 'an object'
    case 'bigint':
      return `${value}n`
    default:
      return String(value)
  }
}

const TWEAK_NAMES = ['fresh', 'exclusive', 'heap', 'stack', 'deadline', 'reorder']

/**
 * The recovery ladder (`recovery.ladder`): tweak names, each at most once, in the order to try.
 *
 * @example
 * ```ts
 * tweakList(['exclusive', 'fresh']) // { ok: true, value: ['exclusive', 'fresh'] }
 * ```
 */
export const tweakList: Check = (value) => {
  if (!Array.isArray(value)) return { ok: false, expected: `an array of tweaks (${TWEAK_NAMES.join(', ')})`, got: value }
  for (const [i, tweak] of value.entries()) {
    if (typeof tweak !== 'string' || !TWEAK_NAMES.includes(tweak)) return { ok: false, expected: `one of ${TWEAK_NAMES.join(', ')}`, got: tweak, at: `[${i}]` }
    if (value.indexOf(tweak) !== i) return { ok: false, expected: 'each tweak at most once', got: tweak, at: `[${i}]` }
  }
  return { ok: true, value: [...value] }
}

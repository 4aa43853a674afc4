import { createHash } from 'node:crypto'

/** Which parts of a request a signature covers besides method and path (config `immunity.signature`). */
export interface SignatureSpec {
  query: 'all' | 'none' | readonly string[]
  body: boolean
  /** Replaces the default composition (config `immunity.signature.key`); see {@link SignatureKey}. */
  key?: SignatureKey
}

/** What a key function sees: the parts the default signature is made of, never headers. */
export interface SignatureParts {
  method: string
  /** Normalised: repeated and trailing slashes collapsed, unreserved escapes decoded. */
  path: string
  /**
   * The kept query parameters (see `query`) as sent, sorted by decoded name, as `?a=1&b=2`, or
   * ''. A repeated parameter keeps the order of its values: `?b=2&a=1&a=0` gives `?a=1&a=0&b=2`.
   */
  query: string
  /** 16 hex digits of the body's SHA-256, '-' for no body, '*' when `body` is false. */
  bodyHash: string
}

/**
 * A user-supplied signature: called in the dispatcher for requests it must screen, so it must
 * be pure and fast (it is config code, like the rest of crashless.config). Returning a string
 * (at most 512 characters) makes that the signature; anything else, or a throw, falls back to
 * the default composition.
 */
export type SignatureKey = (parts: SignatureParts) => string | undefined

const DEFAULT_SPEC: SignatureSpec = { query: 'all', body: true }

/** What a signature is computed from: never headers, so credentials and cookies are never part of it. */
export interface SignatureInput {
  method: string
  url: string
  body: SharedArrayBuffer | null
  /** The body's hash when only that is known (a request recorded in flight before its runtime died). */
  bodyHash?: string
}

/**
 * A stable fingerprint of a request: method, normalised path, query (parameters sorted by name,
 * the values of a repeated one in their order) and a hash of the body. Two requests with the same signature are expected to take the same path
 * through the app, so a request that crashed the app once is likely to do it again.
 *
 * Trade-off: this is specific (one changed byte in the body or query gives a new signature, so
 * an attacker can vary requests to dodge a quarantine; the bounds on crashes per instance are
 * the defence there), never broad (it never blocks a whole route for everyone).
 *
 * @example
 * ```ts
 * computeSignature({ method: 'GET', url: '/items/7?b=2&a=1', body: null }) // 'GET /items/7?a=1&b=2 #3f2a…'
 * ```
 */
export function computeSignature(input: SignatureInput, spec: SignatureSpec = DEFAULT_SPEC): string {
  const { path, query } = splitUrl(input.url, spec.query)
  const bodyHash = !spec.body ? '*' : input.bodyHash !== undefined ? input.bodyHash : input.body && input.body.byteLength > 0 ? createHash('sha256').update(new Uint8Array(input.body)).digest('hex').slice(0, 16) : '-'
  const parts: SignatureParts = { method: input.method.toUpperCase(), path: normalisePath(path), query, bodyHash }
  if (spec.key) {
    const custom = callKey(spec.key, parts)
    if (custom !== null) return custom
  }
  return `${parts.method} ${parts.path}${parts.query} #${parts.bodyHash}`
}

/**
 * The route a request belongs to, for the bulkhead: method and normalised path only.
 *
 * @example
 * ```ts
 * routeOf({ method: 'get', url: '/search/?q=1', body: null }) // 'GET /search'
 * ```
 */
export function routeOf(input: Pick<SignatureInput, 'method' | 'url'>): string {
  return `${input.method.toUpperCase()} ${normalisePath(splitUrl(input.url, 'none').path)}`
}

/** The default composition, `METHOD /path?query #bodyhash`: request targets never hold a raw space. */
const DEFAULT_SHAPE = /^(\S+ [^?\s]*)(?:\?\S*)? #(?:[0-9a-f]{16}|-|\*)$/

/**
 * The route of a signature already computed, as {@link routeOf} gives it for the request. A
 * signature not of the default shape (a `key` function made it) is its own route: what a key
 * function groups together is not for the table to guess.
 *
 * @example
 * ```ts
 * routeOfSignature('GET /items/7?a=1&b=2 #-') // 'GET /items/7'
 * routeOfSignature('GET /users/:id/orders')   // 'GET /users/:id/orders' (a key function's)
 * ```
 */
export function routeOfSignature(signature: string): string {
  return DEFAULT_SHAPE.exec(signature)?.[1] ?? signature
}

function callKey(key: SignatureKey, parts: SignatureParts): string | null {
  try {
    const custom = key(parts)
    return typeof custom === 'string' && custom.length > 0 && custom.length <= 512 ? custom : null
  } catch {
    // A broken key function must not break screening: the default signature still protects.
    return null
  }
}

function splitUrl(url: string, keep: SignatureSpec['query']): { path: string; query: string } {
  const hash = url.indexOf('#')
  const bare = hash >= 0 ? url.slice(0, hash) : url
  const mark = bare.indexOf('?')
  if (mark < 0) return { path: bare, query: '' }
  if (keep === 'none') return { path: bare.slice(0, mark), query: '' }
  const params = bare
    .slice(mark + 1)
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => ({ pair, name: paramName(pair) }))
    .filter((p) => keep === 'all' || keep.includes(p.name))
  // By name only, and stable (Array.prototype.sort is, since ES2019): the values of a repeated
  // parameter keep their order, which apps see (`?id=666&id=1` is not `?id=1&id=666`). Sorting
  // whole pairs once gave both the same signature, so one crash quarantined the benign order.
  params.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { path: bare.slice(0, mark), query: params.length > 0 ? `?${params.map((p) => p.pair).join('&')}` : '' }
}

function paramName(pair: string): string {
  const eq = pair.indexOf('=')
  const raw = eq < 0 ? pair : pair.slice(0, eq)
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    return raw
  }
}

/** Collapses repeated slashes and a trailing slash, and decodes unreserved escapes (%41 → A). */
function normalisePath(path: string): string {
  let out = path.replace(/\/{2,}/g, '/')
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1)
  return out.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return /[A-Za-z0-9\-._~]/.test(char) ? char : escape.toUpperCase()
  })
}

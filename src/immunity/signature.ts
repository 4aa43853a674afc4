import { createHash } from 'node:crypto'

/** Which parts of a request a signature covers besides method and path (config `immunity.signature`). */
export interface SignatureSpec {
  query: 'all' | 'none' | readonly string[]
  body: boolean
}

const DEFAULT_SPEC: SignatureSpec = { query: 'all', body: true }

/** What a signature is computed from: never headers, so credentials and cookies are never part of it. */
export interface SignatureInput {
  method: string
  url: string
  body: SharedArrayBuffer | null
}

/**
 * A stable fingerprint of a request: method, normalised path, query (parameters sorted) and a
 * hash of the body. Two requests with the same signature are expected to take the same path
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
  const body = !spec.body ? '*' : input.body && input.body.byteLength > 0 ? createHash('sha256').update(new Uint8Array(input.body)).digest('hex').slice(0, 16) : '-'
  return `${input.method.toUpperCase()} ${normalisePath(path)}${query} #${body}`
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
    .filter((p) => p !== '' && (keep === 'all' || keep.includes(paramName(p))))
    .sort()
  return { path: bare.slice(0, mark), query: params.length > 0 ? `?${params.join('&')}` : '' }
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

import type { RawHeaders, ResponseHeaders } from '../protocol.js'

/**
 * Headers of which Node keeps only the first occurrence in `req.headers` (see
 * `matchKnownFields` in Node's lib/_http_incoming.js): a second value would be ambiguous.
 */
const FIRST_WINS = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
])

/**
 * Folds raw header pairs the way Node's `req.headers` does: lower-case names, `set-cookie`
 * kept as an array, `cookie` joined with "; ", the headers above first-wins, other repeats
 * joined with ", ".
 */
export function foldRawHeaders(raw: RawHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    const value = raw[i + 1]!
    const prev = out[name]
    if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value
    else if (Array.isArray(prev)) prev.push(value)
    else if (!FIRST_WINS.has(name)) out[name] = prev + (name === 'cookie' ? '; ' : ', ') + value
  }
  return out
}

/** Headers of a fetch Response in the protocol's shape, keeping each set-cookie apart. */
export function fromFetchHeaders(headers: Headers): ResponseHeaders {
  const out: ResponseHeaders = {}
  for (const [name, value] of headers) {
    if (name !== 'set-cookie') out[name] = value
  }
  const cookies = headers.getSetCookie()
  if (cookies.length > 0) out['set-cookie'] = cookies
  return out
}

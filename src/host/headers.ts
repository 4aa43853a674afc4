import type { RawHeaders, ResponseHeaders } from '../protocol.js'

/**
 * Folds raw header pairs the way Node's `req.headers` does: lower-case names, `set-cookie`
 * kept as an array, `cookie` joined with "; ", other repeats joined with ", ".
 */
export function foldRawHeaders(raw: RawHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    const value = raw[i + 1]!
    const prev = out[name]
    if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value
    else if (Array.isArray(prev)) prev.push(value)
    else out[name] = prev + (name === 'cookie' ? '; ' : ', ') + value
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

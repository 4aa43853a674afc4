import { HOP_BY_HOP_HEADERS, type ResponseHeaders } from '../protocol.js'

/**
 * Reads the status and headers back from the header block Node's ServerResponse serialised
 * ("HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n"). Names are lower-cased; a header that
 * appears more than once (set-cookie) becomes an array. Hop-by-hop headers (the relay's own
 * `Connection: close`, a `Transfer-Encoding` Node chose) are left out: the dispatcher's
 * connection sets its own, and deleting them there made every head a slow dictionary object.
 *
 * @example
 * ```ts
 * parseResponseHead('HTTP/1.1 201 Created\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n')
 * // { status: 201, statusMessage: 'Created', headers: { 'set-cookie': ['a=1', 'b=2'] } }
 * ```
 */
export function parseResponseHead(block: string): { status: number; statusMessage: string | undefined; headers: ResponseHeaders } {
  const lines = block.split('\r\n')
  const statusLine = lines[0] ?? ''
  const firstSpace = statusLine.indexOf(' ')
  const secondSpace = statusLine.indexOf(' ', firstSpace + 1)
  const status = Number(statusLine.slice(firstSpace + 1, secondSpace > 0 ? secondSpace : undefined))
  const statusMessage = secondSpace > 0 ? statusLine.slice(secondSpace + 1) : undefined
  const headers: ResponseHeaders = {}
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).toLowerCase()
    if (HOP_BY_HOP_HEADERS.includes(name)) continue
    const value = line.slice(colon + 1).trim()
    const prev = headers[name]
    if (prev === undefined) headers[name] = name === 'set-cookie' ? [value] : value
    else if (Array.isArray(prev)) prev.push(value)
    else headers[name] = [prev, value]
  }
  return { status, statusMessage, headers }
}

import { IncomingMessage, ServerResponse } from 'node:http'
import { Writable } from 'node:stream'
import { unpackHeaders, type RequestMessage } from '../protocol.js'
import { foldRawHeaders } from './headers.js'
import { parseResponseHead } from './parse-response-head.js'
import type { ResponseSink } from './response-sink.js'

/**
 * Stands in for the TCP socket under one request. ServerResponse serialises the response
 * into it as it would onto the wire; those bytes are discarded, because the response is
 * relayed from the write/end calls instead (see `interceptResponse`).
 */
class RelaySocket extends Writable {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly remoteFamily: string
  readonly encrypted = false
  readonly readable = true

  constructor(remoteAddress: string, remotePort: number) {
    super({ decodeStrings: false })
    this.remoteAddress = remoteAddress
    this.remotePort = remotePort
    this.remoteFamily = remoteAddress.includes(':') ? 'IPv6' : 'IPv4'
  }

  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    callback()
  }

  override _writev(_chunks: unknown, callback: (error?: Error | null) => void): void {
    callback()
  }

  // The methods below are what frameworks and Node's HTTP code call on a socket.
  setTimeout(): this {
    return this
  }
  setNoDelay(): this {
    return this
  }
  setKeepAlive(): this {
    return this
  }
  pause(): this {
    return this
  }
  resume(): this {
    return this
  }
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
  address(): { address: string; family: string; port: number } {
    return { address: '127.0.0.1', family: 'IPv4', port: 0 }
  }
}

/**
 * Builds the `(req, res)` pair a Node listener receives for one relayed request, using Node's
 * own IncomingMessage and ServerResponse so frameworks see the real classes. What the app writes
 * goes to the sink.
 *
 * @example
 * ```ts
 * const { req, res } = createRelayReqRes(message, sink)
 * app(req, res)
 * ```
 */
export function createRelayReqRes(msg: RequestMessage, sink: ResponseSink): { req: IncomingMessage; res: ServerResponse; socket: RelaySocket } {
  const socket = new RelaySocket(msg.remoteAddress, msg.remotePort)
  const req = new IncomingMessage(socket as never)
  req.httpVersionMajor = 1
  req.httpVersionMinor = 1
  req.httpVersion = '1.1'
  req.method = msg.method
  req.url = msg.url
  const rawHeaders = unpackHeaders(msg.headerBlock)
  req.rawHeaders = rawHeaders
  req.headers = foldRawHeaders(rawHeaders) as IncomingMessage['headers']
  if (msg.body) req.push(Buffer.from(msg.body))
  req.push(null)
  req.complete = true

  const res = new ServerResponse(req)
  res.shouldKeepAlive = false
  res.assignSocket(socket as never)
  interceptResponse(res, sink)
  return { req, res, socket }
}

/**
 * Relays the response from the calls the app makes. The head is read from the header block
 * Node serialised (`_header`), so it is exactly what Node would have sent, whichever mix of
 * setHeader and writeHead the app used. Own-property wrappers survive frameworks that swap the
 * prototype of `res` (Express does), and they call whatever the prototype chain holds then.
 */
function interceptResponse(res: ServerResponse, sink: ResponseSink): void {
  const target = res as ServerResponse & { _header: string | null; _hasBody: boolean; _trailer?: string }
  let headSent = false
  const sendHead = (): void => {
    if (headSent || !target._header) return
    headSent = true
    const head = parseResponseHead(target._header)
    sink.writeHead(head.status, head.statusMessage, head.headers)
  }
  const toBuffer = (chunk: unknown, encoding: unknown): Buffer | null => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return null
    if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
    if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    return null
  }

  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    const proto = Object.getPrototypeOf(this) as ServerResponse
    const result = (proto.writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
    // writeHead only stores the header block; it is sent with the first write or end.
    return result
  } as ServerResponse['writeHead']

  res.write = function write(this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) {
    const proto = Object.getPrototypeOf(this) as ServerResponse
    const ok = (proto.write as (...a: unknown[]) => boolean).call(this, chunk, encoding, callback)
    sendHead()
    const data = toBuffer(chunk, encoding)
    if (data && target._hasBody) sink.write(data)
    return ok
  } as ServerResponse['write']

  res.end = function end(this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) {
    if (this.writableEnded) return this
    const proto = Object.getPrototypeOf(this) as ServerResponse
    ;(proto.end as (...a: unknown[]) => ServerResponse).call(this, chunk, encoding, callback)
    sendHead()
    const data = toBuffer(chunk, encoding)
    if (data && target._hasBody) sink.write(data)
    sink.end(target._trailer ? parseTrailers(target._trailer) : null)
    return this
  } as ServerResponse['end']

  res.flushHeaders = function flushHeaders(this: ServerResponse) {
    const proto = Object.getPrototypeOf(this) as ServerResponse
    proto.flushHeaders.call(this)
    sendHead()
  }
}

function parseTrailers(block: string): Record<string, string> | null {
  const out: Record<string, string> = {}
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return Object.keys(out).length > 0 ? out : null
}

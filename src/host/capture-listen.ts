import http from 'node:http'

/** What the app asked listen() for. */
export interface ListenRequest {
  port?: number
  host?: string
}

/** A server the app created and tried to bind; crashless feeds it requests instead. */
export interface CapturedServer {
  server: http.Server
  listen: ListenRequest
}

/**
 * Replaces `http.Server.prototype.listen` so an unmodified script that binds its own server
 * (node:http, Express, Fastify, Koa, @hono/node-server) does not bind at all inside an instance:
 * the dispatcher owns the socket. The server behaves as if listening: `listening` fires and
 * `address()` reports the port crashless serves on.
 *
 * @example
 * ```ts
 * const captured = installListenCapture(3000)
 * await import(entry)
 * const { server } = await captured.first
 * ```
 */
export function installListenCapture(advertisedPort: number | undefined): { first: Promise<CapturedServer>; all: CapturedServer[] } {
  const all: CapturedServer[] = []
  let resolveFirst: (value: CapturedServer) => void = () => {}
  const first = new Promise<CapturedServer>((resolve) => {
    resolveFirst = resolve
  })

  // An own property on http.Server.prototype shadows net.Server.prototype.listen for HTTP
  // servers only; other net servers the app may open keep their real behaviour.
  Object.defineProperty(http.Server.prototype, 'listen', {
    configurable: true,
    writable: true,
    value: function capturedListen(this: http.Server, ...args: unknown[]): http.Server {
      const { request, callback } = parseListenArgs(args)
      const captured: CapturedServer = { server: this, listen: request }
      all.push(captured)
      fakeListening(this, request, advertisedPort)
      if (callback) this.once('listening', callback)
      process.nextTick(() => this.emit('listening'))
      if (all.length === 1) resolveFirst(captured)
      return this
    },
  })
  return { first, all }
}

function fakeListening(server: http.Server, request: ListenRequest, advertisedPort: number | undefined): void {
  const port = advertisedPort ?? request.port ?? 3000
  const address = request.host && request.host.includes('.') ? request.host : '::'
  Object.defineProperty(server, 'listening', { configurable: true, get: () => true })
  server.address = () => ({ address, family: address.includes(':') ? 'IPv6' : 'IPv4', port })
  // A real close() on a never-bound server reports ERR_SERVER_NOT_RUNNING; apps that close
  // their server on shutdown expect success.
  server.close = function close(callback?: (err?: Error) => void): http.Server {
    process.nextTick(() => {
      server.emit('close')
      callback?.()
    })
    return server
  }
}

function parseListenArgs(args: unknown[]): { request: ListenRequest; callback: (() => void) | undefined } {
  const last = args[args.length - 1]
  const callback = typeof last === 'function' ? (last as () => void) : undefined
  const first = args[0]
  const request: ListenRequest = {}
  if (typeof first === 'object' && first !== null) {
    const options = first as { port?: unknown; host?: unknown }
    const port = toPort(options.port)
    if (port !== undefined) request.port = port
    if (typeof options.host === 'string') request.host = options.host
  } else {
    const port = toPort(first)
    if (port !== undefined) request.port = port
    if (typeof args[1] === 'string') request.host = args[1]
  }
  return { request, callback }
}

function toPort(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined
}

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { checkAdminExposure, isLoopbackHost, type ResolvedConfig } from '../config/index.js'
import { route, sendError, type AdminDeps } from './admin-routes.js'
import { authorize } from './authorize.js'

/** The admin endpoint's HTTP server before it has a socket (a keeper hands one over later). */
export interface AdminHttp {
  readonly server: Server
  /** Logs `admin-listening` once it serves on `address`. */
  announce(address: AddressInfo): void
  close(): Promise<void>
}

/**
 * The admin endpoint (`admin.host`:`admin.port`, 127.0.0.1:9300 by default), not bound yet: the
 * runtime binds it itself, or, under a keeper that owns the socket and passes it to the runtime
 * it promotes, connections are fed to `server` by `emit('connection')`. Null when
 * `admin.enabled` is false. Plain `node:http` in the main thread; it never loads or runs app
 * code, and never evaluates anything a request carries.
 *
 * @throws ConfigError naming `admin.token` when the host is not loopback and no token is set.
 * @example
 * ```ts
 * const admin = createAdmin(config, deps, log)
 * listener.on('connection', (socket) => admin?.server.emit('connection', socket))
 * ```
 */
export function createAdmin(config: ResolvedConfig, deps: AdminDeps, log: Logger): AdminHttp | null {
  if (!config.admin.enabled) return null
  // Also checked when the config is resolved; repeated for callers that build a config by hand.
  checkAdminExposure(config)
  const { host, token } = config.admin
  const options = { token, loopbackOnly: isLoopbackHost(host) }
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
    // No route takes a body: drain whatever was sent so the connection stays usable.
    req.resume()
    try {
      const refusal = authorize(req, options)
      if (refusal) {
        log.warn({ event: 'admin-refused', status: refusal.status, method: req.method, url: req.url?.slice(0, 200), remoteAddress: req.socket.remoteAddress }, 'refused an admin request')
        return sendError(res, refusal.status, refusal.code, refusal.message, refusal.status === 401 ? { 'www-authenticate': 'Bearer realm="crashless-admin"' } : {})
      }
      route(req, res, deps)
    } catch (err) {
      log.error({ event: 'admin-error', err }, 'the admin endpoint failed to answer a request')
      if (!res.headersSent) sendError(res, 500, 'CRASHLESS_ERR_ADMIN', 'the admin endpoint failed; see the crashless log')
      else res.destroy()
    }
  })
  return {
    server,
    announce: (address) =>
      log.info(
        { event: 'admin-listening', address: address.address, port: address.port, token: token !== undefined },
        `admin endpoint on http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}${token === undefined ? '' : ' (token required)'}`,
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { checkAdminExposure, isLoopbackHost, type ResolvedConfig } from '../config/index.js'
import { route, sendError, type AdminDeps } from './admin-routes.js'
import { authorize } from './authorize.js'

/** A running admin endpoint. */
export interface AdminServer {
  readonly address: AddressInfo
  close(): Promise<void>
}

/**
 * Starts the admin endpoint (`admin.host`:`admin.port`, 127.0.0.1:9300 by default), or
 * returns null when `admin.enabled` is false or the port cannot be bound. A bind failure is
 * logged (`admin-unavailable`, level error) and does not stop the runtime: the service
 * matters more than its control panel. Plain `node:http` in the main thread; it never loads
 * or runs app code, and never evaluates anything a request carries.
 *
 * @throws ConfigError naming `admin.token` when the host is not loopback and no token is set.
 * @example
 * ```ts
 * const admin = await startAdmin(config, { immunity: dispatcher.immunity, health }, log)
 * await admin?.close()
 * ```
 */
export async function startAdmin(config: ResolvedConfig, deps: AdminDeps, log: Logger): Promise<AdminServer | null> {
  if (!config.admin.enabled) return null
  // Also checked when the config is resolved; repeated for callers that build a config by hand.
  checkAdminExposure(config)
  const { host, port, token } = config.admin
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
  try {
    await listen(server, port, host)
  } catch (err) {
    log.error(
      { event: 'admin-unavailable', host, port, error: (err as Error).message },
      `the admin endpoint cannot listen on ${host}:${port} (${(err as Error).message}); serving without it. Set admin.port (0 picks a free port) or admin.enabled: false`,
    )
    return null
  }
  const address = server.address() as AddressInfo
  log.info(
    { event: 'admin-listening', address: address.address, port: address.port, token: token !== undefined },
    `admin endpoint on http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}${token === undefined ? '' : ' (token required)'}`,
  )
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

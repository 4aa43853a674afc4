import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { checkAdminExposure, isLoopbackHost, type ResolvedConfig } from '../config/index.js'
import { loadRecentIncidents } from '../incidents/index.js'
import { route, sendError, type AdminDeps } from './admin-routes.js'
import { AnswerCache } from './answer-cache.js'
import { authorize } from './authorize.js'
import { DASHBOARD_ASSETS } from './dashboard-assets.js'
import { buildSnapshot } from './dashboard-snapshot.js'
import { LiveFeed } from './live-feed.js'
import { checkOrigin } from './request-origin.js'
import { TriagePoll } from './triage-poll.js'

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
  const shellOptions = { token: undefined, loopbackOnly: options.loopbackOnly }
  const pageToken = randomBytes(18).toString('base64url')
  const answers = new AnswerCache()
  // A release (or any verdict) shows at once in the next listing.
  deps.immunity.onChange(() => answers.clear())
  // Triages are kept by `crashless triage`, another process: looked for while a dashboard is open.
  const triages = deps.incidentsDir === undefined ? null : new TriagePoll(deps.incidentsDir, (err) => log.warn({ event: 'admin-error', err }, 'the incidents folder could not be read for triages'))
  const feed = new LiveFeed(
    () => {
      triages?.poke()
      return buildSnapshot(deps.ownInstances, deps.immunity)
    },
    (err) => log.error({ event: 'admin-error', err }, 'the dashboard snapshot could not be built'),
  )
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
    // No route takes a body: drain whatever was sent so the connection stays usable.
    req.resume()
    try {
      const refusal = authorize(req, isShell(req.method, req.url) ? shellOptions : options) ?? checkOrigin(req, pageToken)
      if (refusal) {
        log.warn({ event: 'admin-refused', status: refusal.status, method: req.method, url: req.url?.slice(0, 200), remoteAddress: req.socket.remoteAddress }, 'refused an admin request')
        return sendError(res, refusal.status, refusal.code, refusal.message, refusal.status === 401 ? { 'www-authenticate': 'Bearer realm="crashless-admin"' } : {})
      }
      route(req, res, deps, { feed, pageToken, answers })
    } catch (err) {
      log.error({ event: 'admin-error', err }, 'the admin endpoint failed to answer a request')
      if (!res.headersSent) sendError(res, 500, 'CRASHLESS_ERR_ADMIN', 'the admin endpoint failed; see the crashless log')
      else res.destroy()
    }
  })
  return {
    server,
    announce: (address) => {
      // The dashboard's recent incidents include those of the runtimes before this one.
      if (deps.incidentsDir !== undefined) void loadRecentIncidents(deps.incidentsDir).catch((err: Error) => log.warn({ event: 'admin-error', err }, 'the incidents folder could not be read for the dashboard'))
      log.info(
        { event: 'admin-listening', address: address.address, port: address.port, token: token !== undefined },
        `admin endpoint on http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}${token === undefined ? '' : ' (token required)'}`,
      )
    },
    close: () =>
      new Promise<void>((resolve) => {
        feed.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A GET of one of the dashboard's own files (they hold no data). */
function isShell(method: string | undefined, url: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false
  const target = url ?? '/'
  const end = target.search(/[?#]/)
  return Object.hasOwn(DASHBOARD_ASSETS, end < 0 ? target : target.slice(0, end))
}

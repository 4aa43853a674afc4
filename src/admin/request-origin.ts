import type { IncomingMessage } from 'node:http'
import { sameSecret, type Refusal } from './authorize.js'

/** The header the dashboard sends its page token in. */
export const PAGE_TOKEN_HEADER = 'x-crashless-page-token'

/**
 * Refuses changes that another web site made a browser send (cross-site request forgery).
 * Only changes (any method but GET and HEAD) are concerned: reads change nothing, another
 * site cannot read their answers (no CORS is ever granted), and a link to the dashboard from
 * elsewhere must still open it. Browsers add `Origin` to every such request and
 * `Sec-Fetch-Site` to every request: a change whose `Origin` is not this endpoint's own
 * (`http://<Host>`, or `https://<Host>` behind a TLS proxy), or that the browser marks `cross-site`/`same-site` (another port of this
 * host is the same site), is refused. A change from a browser must also carry the page token
 * that only a page served by this endpoint knows, in a custom header that a cross-site form
 * cannot set. Requests without browser headers (the CLI, curl) are not concerned: a browser
 * does not send one.
 *
 * @example
 * ```ts
 * const refusal = checkOrigin(req, pageToken)
 * if (refusal) return sendError(res, refusal.status, refusal.code, refusal.message)
 * ```
 */
export function checkOrigin(req: IncomingMessage, pageToken: string): Refusal {
  const method = req.method ?? 'GET'
  if (method === 'GET' || method === 'HEAD') return null
  const origin = req.headers.origin
  const site = req.headers['sec-fetch-site']
  if (origin === undefined && site === undefined) return null
  if (origin !== undefined && !isOwnOrigin(origin, req.headers.host)) return forbidden('cross-origin request refused: the admin endpoint only takes changes from its own pages')
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return forbidden('cross-site request refused: the admin endpoint only takes changes from its own pages')
  const given = req.headers[PAGE_TOKEN_HEADER]
  if (typeof given !== 'string' || !sameSecret(given, pageToken)) return forbidden(`a change from a browser must carry the dashboard's page token (${PAGE_TOKEN_HEADER})`)
  return null
}

/**
 * The endpoint's own origin: its `Host` under http, or under https when a TLS proxy serves it
 * (no one else can serve a page from that host and port).
 */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)
}

function forbidden(message: string): Refusal {
  return { status: 403, code: 'CRASHLESS_ERR_FORBIDDEN', message }
}

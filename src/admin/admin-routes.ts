import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ImmunityTable } from '../immunity/index.js'

/** What `GET /health` reports. */
export interface HealthReport {
  status: 'ok'
  instances: { active: number; ready: number; spares: number }
  /** Requests accepted and not answered yet (queued or running). */
  pending: number
  quarantined: number
}

/** What the admin routes read and change; nothing else of the runtime is reachable from them. */
export interface AdminDeps {
  immunity: ImmunityTable
  health: () => Omit<HealthReport, 'quarantined'>
  /** Asks the keeper for a zero-downtime reload; null when the runtime runs without a keeper. */
  reload?: (() => void) | null
}

const IMMUNITY_ENTRY = '/immunity/'

/**
 * Answers one authorised admin request. Only the path and the method are looked at; nothing
 * from the request is evaluated: a signature is decoded from the path and used as a map key.
 *
 * @example
 * ```ts
 * http.createServer((req, res) => route(req, res, { immunity, health }))
 * ```
 */
export function route(req: IncomingMessage, res: ServerResponse, deps: AdminDeps): void {
  const path = pathOf(req.url ?? '/')
  if (path === null) return sendError(res, 400, 'CRASHLESS_ERR_BAD_REQUEST', 'malformed request target')
  const method = req.method ?? 'GET'
  if (path === '/health') {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed(res, 'GET, HEAD')
    const quarantined = deps.immunity.list().filter((e) => e.quarantinedUntil > 0).length
    return sendJson(res, 200, { ...deps.health(), quarantined } satisfies HealthReport)
  }
  if (path === '/immunity') {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed(res, 'GET, HEAD')
    return sendJson(res, 200, { entries: deps.immunity.list() })
  }
  if (path === '/reload') {
    if (method !== 'POST') return notAllowed(res, 'POST')
    if (!deps.reload) return sendError(res, 409, 'CRASHLESS_ERR_NO_KEEPER', 'this crashless runs without a keeper (--no-keeper): nothing can reload it; restart it instead')
    deps.reload()
    // Accepted, not done: the new runtime starts, then takes over; the log says when.
    return sendJson(res, 202, { reload: 'started' })
  }
  if (path.startsWith(IMMUNITY_ENTRY)) {
    if (method !== 'DELETE') return notAllowed(res, 'DELETE')
    let signature: string
    try {
      signature = decodeURIComponent(path.slice(IMMUNITY_ENTRY.length))
    } catch {
      return sendError(res, 400, 'CRASHLESS_ERR_BAD_REQUEST', 'the signature is not valid percent-encoding (encode it with encodeURIComponent)')
    }
    if (signature === '') return sendError(res, 400, 'CRASHLESS_ERR_BAD_REQUEST', 'name the signature to release: DELETE /immunity/<url-encoded signature>')
    const entry = deps.immunity.get(signature)
    if (!deps.immunity.release(signature)) return sendError(res, 404, 'CRASHLESS_ERR_NOT_FOUND', 'no immunity entry with this signature (it may have expired)')
    return sendJson(res, 200, { released: entry ?? { signature } })
  }
  sendError(res, 404, 'CRASHLESS_ERR_NOT_FOUND', 'no such admin route (GET /health, GET /immunity, DELETE /immunity/<signature>, POST /reload)')
}

/** The raw path of a request target, without its query; null when it is not origin-form. */
function pathOf(target: string): string | null {
  if (!target.startsWith('/')) return null
  const end = target.search(/[?#]/)
  return end < 0 ? target : target.slice(0, end)
}

function notAllowed(res: ServerResponse, allow: string): void {
  sendError(res, 405, 'CRASHLESS_ERR_METHOD_NOT_ALLOWED', `method not allowed here; allowed: ${allow}`, { allow })
}

/**
 * A JSON error in the same shape as the ones crashless answers app requests with.
 *
 * @example
 * ```ts
 * sendError(res, 404, 'CRASHLESS_ERR_NOT_FOUND', 'no such admin route')
 * ```
 */
export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers)
}

/**
 * A JSON response that no cache keeps and no browser sniffs into something else.
 *
 * @example
 * ```ts
 * sendJson(res, 200, { entries: [] })
 * ```
 */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

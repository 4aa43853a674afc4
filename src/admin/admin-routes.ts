import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ImmunityTable } from '../immunity/index.js'
import { listIncidents, readIncident, readTriage } from '../incidents/index.js'
import type { InstanceFigures, KeeperFigures } from '../metrics/index.js'
import type { AnswerCache } from './answer-cache.js'
import { DASHBOARD_ASSETS, sendAsset } from './dashboard-assets.js'
import type { LiveFeed } from './live-feed.js'
import { sendProbe, type Probes } from './probes.js'

/** What `GET /health` reports. */
export interface HealthReport {
  status: 'ok'
  instances: { active: number; ready: number; spares: number }
  /** Requests accepted and not answered yet (queued or running). */
  pending: number
  quarantined: number
  /** With several runtimes: how many answered; `instances` and `pending` are their sums. */
  runtimes?: number
}

/** What `GET /instances` reports (and `crashless status` shows). */
export interface InstancesReport {
  /** The runtime process serving (under a keeper: the active one). */
  pid: number
  uptimeMs: number
  instances: InstanceFigures[]
  /** Instances starting, not yet ready. */
  starting: number
  inFlight: number
  queued: number
  /** Recovery actions since this runtime started, by name (suppressed, reserved, …). */
  recoveries: Record<string, number>
  /** Under a keeper, what it counted since it started (runtime deaths, promotions, reloads); null without one. */
  keeper: KeeperFigures | null
  /** Its slot among several runtimes (1 to `runtimes`); absent with one. */
  runtime?: number
  /**
   * With several runtimes: every runtime's report, this one's included, by slot (a runtime
   * that did not answer within a second is missing). The fields above are this runtime's.
   */
  runtimes?: InstancesReport[]
}

/** What the admin routes read and change; nothing else of the runtime is reachable from them. */
export interface AdminDeps {
  immunity: ImmunityTable
  health: () => Omit<HealthReport, 'quarantined'> | Promise<Omit<HealthReport, 'quarantined'>>
  probes: Probes
  instances: () => InstancesReport | Promise<InstancesReport>
  /**
   * This runtime's own report, synchronously: what the dashboard's live feed shows twice a
   * second (with several runtimes, the serving one's; `GET /instances` covers them all).
   */
  ownInstances: () => InstancesReport
  /** The Prometheus text of `/metrics`. */
  metrics: () => Promise<{ contentType: string; text: string }>
  /** Asks the keeper for a zero-downtime reload; null when the runtime runs without a keeper. */
  reload?: (() => void) | null
  /** The incidents folder, read (never written) by `GET /incidents`, `/incidents/<id>` and the dashboard (triages kept there). */
  incidentsDir?: string
}

const IMMUNITY_ENTRY = '/immunity/'
/** A page of `GET /immunity` when `limit` is not given, and the most one page may hold. */
export const IMMUNITY_PAGE = { default: 100, max: 1_000 }
/** The dashboard's live parts, owned by the admin server. */
export interface DashboardParts {
  /** The server-sent events of `GET /events`. */
  feed: LiveFeed
  /** The anti-forgery token the page carries (see request-origin.ts). */
  pageToken: string
  /** `/immunity` pages and `/metrics` text, kept briefly for clients that poll (see answer-cache.ts). */
  answers: AnswerCache
}

const INCIDENT_ENTRY = '/incidents/'
const ROUTES = 'GET / (dashboard), /events, /health, /livez, /readyz, /metrics, /instances, /immunity, /incidents, /incidents/<id>; DELETE /immunity/<signature>; POST /reload'

/**
 * Answers one authorised admin request. Only the path, the query and the method are looked
 * at; nothing from the request is evaluated: a signature is decoded from the path and used as
 * a map key. Every answer is small and bounded (the immunity table comes in pages), since this
 * runs on the thread that serves traffic; the costly ones (a page of the table, the metrics)
 * are built at most twice a second (answer-cache.ts).
 *
 * @example
 * ```ts
 * http.createServer((req, res) => route(req, res, deps, { feed, pageToken, answers }))
 * ```
 */
export function route(req: IncomingMessage, res: ServerResponse, deps: AdminDeps, dashboard: DashboardParts): void {
  const target = req.url ?? '/'
  const path = pathOf(target)
  if (path === null) return sendError(res, 400, 'CRASHLESS_ERR_BAD_REQUEST', 'malformed request target')
  const method = req.method ?? 'GET'
  const readOnly = method === 'GET' || method === 'HEAD'
  if (Object.hasOwn(DASHBOARD_ASSETS, path)) {
    if (!readOnly) return notAllowed(res, 'GET, HEAD')
    return sendAsset(res, path, dashboard.pageToken)
  }
  switch (path) {
    case '/events':
      if (!readOnly) return notAllowed(res, 'GET, HEAD')
      return dashboard.feed.add(res)
    case '/health':
      if (!readOnly) return notAllowed(res, 'GET, HEAD')
      return answer(res, deps.health(), (health) => ({ ...health, quarantined: deps.immunity.summary().quarantined }) satisfies HealthReport)
    case '/livez':
    case '/readyz':
      if (!readOnly) return notAllowed(res, 'GET, HEAD')
      return sendProbe(res, path === '/livez' ? deps.probes.live() : deps.probes.ready())
    case '/instances':
      if (!readOnly) return notAllowed(res, 'GET, HEAD')
      return answer(res, deps.instances(), (report) => report)
    case '/metrics':
      if (!readOnly) return notAllowed(res, 'GET, HEAD')
      return void dashboard.answers.get('/metrics', () => deps.metrics().then(({ contentType, text }) => `${contentType}\n${text}`)).then(
        (answer) => {
          const split = answer.indexOf('\n')
          sendText(res, answer.slice(0, split), answer.slice(split + 1))
        },
        (err: Error) => sendError(res, 500, 'CRASHLESS_ERR_ADMIN', `the metrics could not be collected: ${err.message}`),
      )
    case '/immunity':
      if (!readOnly) return notAllowed(res, 'GET, HEAD')
      return listImmunity(res, deps.immunity, new URLSearchParams(queryOf(target)), dashboard.answers)
    case '/incidents': {
      if (!readOnly) return notAllowed(res, 'GET, HEAD')
      const limit = Number(new URLSearchParams(queryOf(target)).get('limit') ?? IMMUNITY_PAGE.default)
      if (!Number.isInteger(limit) || limit < 1 || limit > IMMUNITY_PAGE.max) return sendError(res, 400, 'CRASHLESS_ERR_BAD_REQUEST', `limit must be an integer from 1 to ${IMMUNITY_PAGE.max}`)
      if (!deps.incidentsDir) return sendJson(res, 200, { incidents: [] })
      return void listIncidents(deps.incidentsDir, limit).then(
        (incidents) => sendJson(res, 200, { incidents }),
        (err: Error) => sendError(res, 500, 'CRASHLESS_ERR_ADMIN', `the incidents could not be read: ${err.message}`),
      )
    }
    case '/reload':
      if (method !== 'POST') return notAllowed(res, 'POST')
      if (!deps.reload) return sendError(res, 409, 'CRASHLESS_ERR_NO_KEEPER', 'this crashless runs without a keeper (--no-keeper): nothing can reload it; restart it instead')
      deps.reload()
      // Accepted, not done: the new runtime starts, then takes over; the log says when.
      return sendJson(res, 202, { reload: 'started' })
  }
  if (path.startsWith(INCIDENT_ENTRY)) {
    if (!readOnly) return notAllowed(res, 'GET, HEAD')
    // Only a well-formed id (or `latest`) is ever looked up, so the path cannot leave the folder.
    const id = path.slice(INCIDENT_ENTRY.length)
    if (!deps.incidentsDir) return sendError(res, 404, 'CRASHLESS_ERR_NOT_FOUND', 'no incidents folder')
    const dir = deps.incidentsDir
    return void readIncident(dir, id).then(
      // With its kept triage, as `crashless incidents show <id> --json` prints it (null: not triaged).
      async (incident) => sendJson(res, 200, { ...incident, triage: await readTriage(dir, incident.id) }),
      () => sendError(res, 404, 'CRASHLESS_ERR_NOT_FOUND', `no incident ${id.slice(0, 80)} (it may have been pruned)`),
    )
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
  sendError(res, 404, 'CRASHLESS_ERR_NOT_FOUND', `no such admin route (${ROUTES})`)
}

/** Answers 200 with `shape(value)` once `value` is there (with several runtimes it is gathered from all). */
function answer<T>(res: ServerResponse, value: T | Promise<T>, shape: (value: T) => unknown): void {
  if (!(value instanceof Promise)) return sendJson(res, 200, shape(value))
  value.then(
    (v) => sendJson(res, 200, shape(v)),
    (err: Error) => sendError(res, 500, 'CRASHLESS_ERR_ADMIN', `the report could not be gathered: ${err.message}`),
  )
}

/** `GET /immunity?limit=&after=`: one page in signature order, and the cursor of the next (null after the last). */
function listImmunity(res: ServerResponse, immunity: ImmunityTable, query: URLSearchParams, answers: AnswerCache): void {
  const rawLimit = query.get('limit')
  const limit = rawLimit === null ? IMMUNITY_PAGE.default : Number(rawLimit)
  if (!Number.isInteger(limit) || limit < 1 || limit > IMMUNITY_PAGE.max) {
    return sendError(res, 400, 'CRASHLESS_ERR_BAD_REQUEST', `limit must be an integer from 1 to ${IMMUNITY_PAGE.max}`)
  }
  const after = query.get('after')
  void answers
    .get(`/immunity?${limit}&${after ?? ''}`, () => {
      const { entries, next } = immunity.page(after, limit)
      return JSON.stringify({ entries, next })
    })
    .then(
      (body) => sendBody(res, 200, body),
      (err: Error) => sendError(res, 500, 'CRASHLESS_ERR_ADMIN', `the immunity table could not be listed: ${err.message}`),
    )
}

/** The raw path of a request target, without its query; null when it is not origin-form. */
function pathOf(target: string): string | null {
  if (!target.startsWith('/')) return null
  const end = target.search(/[?#]/)
  return end < 0 ? target : target.slice(0, end)
}

/** The query of a request target, without `?` (empty when there is none). */
function queryOf(target: string): string {
  const start = target.indexOf('?')
  if (start < 0) return ''
  const end = target.indexOf('#', start)
  return target.slice(start + 1, end < 0 ? undefined : end)
}

function sendText(res: ServerResponse, contentType: string, text: string): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
  res.end(res.req.method === 'HEAD' ? undefined : text)
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
  sendBody(res, status, JSON.stringify(value), headers)
}

/** A JSON text already serialized, with {@link sendJson}'s headers. */
function sendBody(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

// The emulated users' HTTP: one keep-alive undici Pool shared by all users (at most `connections`
// sockets), JSON in and out, the user's `ebid` cookie, an Idempotency-Key on every write, and a
// per-request timeout. Every request is recorded as { t, ms, ok, status, path } (t = ms since the
// run's start when the answer ended; status 0 when there was no answer, then `error` says why).
import { randomUUID } from 'node:crypto'
import { Pool } from 'undici'

/** The run ended (hard stop or caller's abort) under this request: neither a success nor a failure. */
export class Cut extends Error {}

/** The action failed; `reason` is categorical (aggregates across requests), `detail` is free text. */
export class ActionFailed extends Error {
  constructor(reason, detail) {
    super(detail ? `${reason}: ${detail}` : reason)
    this.reason = reason
    this.detail = detail
  }
}

/** `/items/123?page=2` → `/items/:id`, for reasons that aggregate. */
export function routeOf(path) {
  return path.replace(/\?.*$/, '').replace(/\/\d+(?=\/|$)/g, '/:id')
}

export function createHttp({ origin, connections, requestTimeoutMs, hardSignal, t0 }) {
  const pool = new Pool(origin, {
    connections,
    pipelining: 1,
    // Backstops only: the AbortController below is what bounds a request.
    headersTimeout: requestTimeoutMs + 1000,
    bodyTimeout: requestTimeoutMs + 1000,
    connect: { timeout: requestTimeoutMs },
  })
  const requests = []

  /**
   * Sends one request for `user`. Resolves { status, body, sentAt, at } (performance.now() times) when the status is in `expect`;
   * otherwise records the request as failed and throws ActionFailed. Throws Cut at the hard stop.
   * `idempotencyKey`: writes get a fresh one unless the caller passes its own. `cookie` replaces
   * the jar's Cookie header (to try an old token).
   */
  async function request(user, { method = 'GET', path, json, expect = [200], withCookie = true, cookie: cookieOverride, idempotencyKey }) {
    if (hardSignal.aborted) throw new Cut('run over')
    const headers = {}
    if (json !== undefined) headers['content-type'] = 'application/json'
    const cookie = cookieOverride ?? (withCookie ? user.jar.header() : '')
    if (cookie) headers.cookie = cookie
    if (method !== 'GET') headers['idempotency-key'] = idempotencyKey ?? randomUUID()

    const ac = new AbortController()
    let why = null
    const timer = setTimeout(() => { why = 'timeout'; ac.abort() }, requestTimeoutMs)
    const onHard = () => { why ??= 'cut'; ac.abort() }
    hardSignal.addEventListener('abort', onHard, { once: true })
    const start = performance.now()
    let status = 0
    let text = ''
    let error
    let setCookie
    try {
      const res = await pool.request({ method, path, headers, body: json === undefined ? undefined : JSON.stringify(json), signal: ac.signal })
      status = res.statusCode
      setCookie = res.headers['set-cookie']
      text = await res.body.text()
    } catch (err) {
      error = why ?? err.code ?? err.name ?? 'error'
    } finally {
      clearTimeout(timer)
      hardSignal.removeEventListener('abort', onHard)
    }
    const end = performance.now()
    if (error === 'cut') throw new Cut('run over')
    if (error) status = 0

    const ok = !error && expect.includes(status)
    const record = { t: round(end - t0), ms: round(end - start), ok, status, path }
    if (error) record.error = error
    requests.push(record)

    const route = `${method} ${routeOf(path)}`
    if (error) throw new ActionFailed(`${error} ${route}`)
    if (setCookie) user.jar.update(setCookie)
    let body
    let badJson = false
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      badJson = true
    }
    if (!ok) {
      // A session the server no longer knows: log in again on the next action that needs one.
      if (status === 401) user.jar.clear()
      throw new ActionFailed(`status ${status} ${route}`, typeof body?.error === 'string' ? body.error.slice(0, 80) : text.slice(0, 80))
    }
    if (badJson) throw new ActionFailed(`bad json ${route}`, text.slice(0, 80))
    return { status, body, sentAt: start, at: end }
  }

  return { request, requests, close: () => pool.destroy().catch(() => {}) }
}

function round(ms) {
  return Math.round(ms * 100) / 100
}

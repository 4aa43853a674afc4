import http from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type { ResolvedConfig } from '../config/index.js'
import { BodyBudget } from './body-budget.js'
import { answerClientError } from './client-error.js'
import { readBody, type BodyLimits } from './read-body.js'
import { refuseSlow, refuseTooLarge } from './refuse-body.js'

const MiB = 1024 * 1024

/** What the front hands requests to. */
export interface FrontTarget {
  submit(req: http.IncomingMessage, res: http.ServerResponse, body: SharedArrayBuffer | null): void
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void
  /** Answers the health probes of `probes.path` (true when it did); null when they are off. */
  probe?: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | null
}

/**
 * The HTTP front: accepts connections, parses requests (Node's llhttp), reads bodies within
 * their size limit, the budget shared by all connections and their time limit, turns
 * malformed and too slow requests away, then hands each request to the dispatcher.
 * It never runs user code.
 *
 * @example
 * ```ts
 * const server = createFront(config, log, dispatcher)
 * server.listen(3000)
 * ```
 */
export function createFront(config: ResolvedConfig, log: Logger, target: FrontTarget): http.Server {
  const { maxBodyBytes, bufferedBodyMb } = config.limits
  const { headersMs, bodyMs } = config.timeouts
  const budget = new BodyBudget(bufferedBodyMb * MiB, (used) =>
    log.warn({ event: 'body-budget-full', usedBytes: used, budgetBytes: budget.totalBytes }, 'request bodies wait for room (limits.bufferedBodyMb)'),
  )
  const limits: BodyLimits = { maxBytes: maxBodyBytes, budget, timeoutMs: bodyMs, onWait: () => log.debug({ event: 'body-wait', usedBytes: budget.usedBytes, waiting: budget.waiting }, 'a request body waits for room') }
  const probe = target.probe ?? null
  const server = http.createServer(serverOptions(headersMs), (req, res) => {
    if (probe !== null && probe(req, res)) return
    readBody(req, limits, (result) => {
      if (result.ok) {
        // The dispatcher lets go of the body when the response is over or its client gone (an
        // instance still running an abandoned request may hold it until the abort reaches it).
        if (result.release) res.once('close', result.release)
        return target.submit(req, res, result.body)
      }
      if (result.reason === 'aborted') return
      if (result.reason === 'too-large') {
        const limit = result.limit === 'maxBodyBytes' ? `${maxBodyBytes} bytes (limits.maxBodyBytes)` : `the ${bufferedBodyMb} MiB kept for all request bodies (limits.bufferedBodyMb)`
        return refuseTooLarge(req, res, `the request body exceeds ${limit}`)
      }
      log.debug({ event: 'body-timeout', method: req.method, url: req.url, received: result.received, waited: result.waited }, 'a request body did not arrive in time')
      const why = result.waited ? '; it waited for room among the bodies being received (limits.bufferedBodyMb)' : ''
      refuseSlow(req, res, `the request body was not received within ${bodyMs} ms (timeouts.bodyMs)${why}`)
    })
  })
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => target.upgrade(req, socket, head))
  server.on('clientError', answerClientError(log, headersMs))
  return server
}

/**
 * Node's server options. `headersTimeout` is Node's own check of the request head, answered
 * through `clientError` (408, see client-error.ts). Node's `requestTimeout` is off: it counts
 * from the head's first byte, and when it fires inside a body the request already has its
 * response object, which a raw write to the socket would corrupt; the front times bodies
 * itself (`timeouts.bodyMs`, read-body.ts). Node checks its timeouts every
 * `connectionsCheckingInterval` (30 s by default): here a tenth of `headersMs`, between 50 ms
 * and 1 s, so a slow head is cut soon after its limit.
 */
function serverOptions(headersMs: number): http.ServerOptions {
  return {
    keepAliveTimeout: 5000,
    headersTimeout: headersMs,
    requestTimeout: 0,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.round(headersMs / 10))),
  }
}

import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { isLoopbackHost } from '../config/index.js'

/** Why a request is refused, or null when it may proceed. */
export type Refusal = { status: 401 | 403; code: string; message: string } | null

/**
 * Decides whether an admin request may proceed. With a token configured, the request must
 * carry `authorization: Bearer <token>`, compared in constant time. On a loopback-only admin,
 * the `Host` header must name a loopback host as well: a web page the operator visits could
 * otherwise reach the endpoint through DNS rebinding (its own name resolving to 127.0.0.1).
 *
 * @example
 * ```ts
 * const refusal = authorize(req, { token: 'a-long-enough-secret', loopbackOnly: true })
 * if (refusal) return sendJson(res, refusal.status, { error: refusal })
 * ```
 */
export function authorize(req: IncomingMessage, options: { token: string | undefined; loopbackOnly: boolean }): Refusal {
  const name = hostName(req.headers.host ?? '')
  if (options.loopbackOnly && (name === null || !isLoopbackHost(name))) {
    return { status: 403, code: 'CRASHLESS_ERR_FORBIDDEN', message: 'the admin endpoint only answers requests addressed to a loopback host (Host: 127.0.0.1, localhost or [::1])' }
  }
  if (options.token === undefined) return null
  const header = req.headers.authorization ?? ''
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  if (!match || !sameSecret(match[1]!, options.token)) {
    return { status: 401, code: 'CRASHLESS_ERR_UNAUTHORIZED', message: 'bad or missing token: send authorization: Bearer <admin.token>' }
  }
  return null
}

/**
 * Constant-time comparison of two secrets of any lengths: both are hashed first, so neither
 * the comparison nor an early length mismatch tells an attacker how much of a guess was right.
 *
 * @example
 * ```ts
 * sameSecret(given, expected) // true only when equal
 * ```
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/**
 * The host part of a Host header (RFC 9110 §7.2: `uri-host [ ":" port ]`), or null when the
 * header is anything else. Strict on purpose: taking the text before the last colon read
 * `127.0.0.1:80@evil.example` (a crafted header) as
 * `127.0.0.1`. Only an IP literal in brackets, or a name or IPv4 address made of
 * letters, digits, dots and hyphens, then an optional all-digit port, is a host here.
 *
 * @example
 * ```ts
 * hostName('127.0.0.1:9300')             // '127.0.0.1'
 * hostName('[::1]:9300')                 // '[::1]'
 * hostName('127.0.0.1:80@evil.example')  // null
 * ```
 */
export function hostName(host: string): string | null {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{0,5})?$/.exec(host)
  return match ? match[1]! : null
}

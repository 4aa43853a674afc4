import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * The session cookie's value: `<id>.<signature>`, where the id is 24 random bytes (base64url,
 * 32 characters) and the signature is HMAC-SHA256 of the id under the session secret (base64url,
 * 43 characters). Only the dispatcher holds the secret: instances (the app's code) see ids,
 * never the key, so a compromised app cannot mint cookies for other deployments of the secret.
 */

const ID_BYTES = 24
const SESSION_ID = /^[A-Za-z0-9_-]{32}$/
const SIGNATURE_LENGTH = 43

/**
 * A fresh random session id.
 *
 * @example
 * ```ts
 * newSessionId() // 'q3Jx0b9W1m2...' (32 characters of base64url)
 * ```
 */
export function newSessionId(): string {
  return randomBytes(ID_BYTES).toString('base64url')
}

/** True for a string shaped like an id from `newSessionId`. */
export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && SESSION_ID.test(id)
}

/**
 * The cookie value for `id`, signed with `secret`.
 *
 * @example
 * ```ts
 * signSessionId(id, secret) // `${id}.${hmac}`
 * ```
 */
export function signSessionId(id: string, secret: string): string {
  return `${id}.${mac(id, secret)}`
}

/**
 * The session id a cookie value carries when one of `secrets` signed it, else null. The
 * signature is compared in constant time, so timing tells an attacker nothing about it.
 *
 * @example
 * ```ts
 * verifySessionCookie(signSessionId(id, s), [s])        // id
 * verifySessionCookie(`${id}.forged-signature`, [s])    // null
 * ```
 */
export function verifySessionCookie(value: string, secrets: readonly string[]): string | null {
  if (value.length !== 32 + 1 + SIGNATURE_LENGTH || value.charCodeAt(32) !== 0x2e) return null
  const id = value.slice(0, 32)
  if (!SESSION_ID.test(id)) return null
  const given = Buffer.from(value.slice(33), 'latin1')
  for (const secret of secrets) {
    if (timingSafeEqual(given, Buffer.from(mac(id, secret), 'latin1'))) return id
  }
  return null
}

/**
 * The values of every cookie called `name` in a `Cookie` header, in order (a browser sends the
 * cookie of the most specific path first; there may be several of one name).
 *
 * @example
 * ```ts
 * cookieValues('a=1; crashless.sid=abc; b=2', 'crashless.sid') // ['abc']
 * ```
 */
export function cookieValues(header: string, name: string): string[] {
  const found: string[] = []
  const needle = `${name}=`
  let from = 0
  let at: number
  while ((at = header.indexOf(needle, from)) >= 0) {
    from = at + needle.length
    const before = at === 0 ? 0x3b : header.charCodeAt(at - 1)
    // Only at the start of a pair: `xcrashless.sid=` is another cookie.
    if (before !== 0x3b && before !== 0x20 && before !== 0x09) continue
    const end = header.indexOf(';', from)
    let value = header.slice(from, end < 0 ? undefined : end).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    found.push(value)
  }
  return found
}

function mac(id: string, secret: string): string {
  return createHmac('sha256', secret).update(id).digest('base64url')
}

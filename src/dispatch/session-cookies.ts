import type { ResolvedConfig } from '../config/index.js'
import type { ResponseHeaders } from '../protocol.js'
import { cookieValues, isSessionId, signSessionId, verifySessionCookie } from '../state/index.js'

/**
 * The dispatcher's side of cookie sessions: which session a request's cookie names (checked
 * here, on the main thread, so the signing key never reaches an instance), and the Set-Cookie
 * header a committed response carries when its session was made, written or destroyed.
 *
 * Cost for requests without the cookie: one scan of the raw header names and a substring check.
 *
 * @example
 * ```ts
 * const cookies = new SessionCookies(config.session, [secret])
 * job.sessionId = cookies.sessionOf(req.rawHeaders)  // verified id, or null
 * cookies.addTo(headers, { id })                     // appends the signed Set-Cookie
 * ```
 */
export class SessionCookies {
  private readonly attributes: string
  private readonly clear: string

  constructor(
    private readonly options: ResolvedConfig['session'],
    private readonly secrets: readonly string[],
  ) {
    const sameSite = options.sameSite === 'lax' ? 'Lax' : options.sameSite === 'strict' ? 'Strict' : 'None'
    // HttpOnly always: no page script has any business reading a session id.
    const common = `; Path=${options.path}; HttpOnly; SameSite=${sameSite}${options.secure ? '; Secure' : ''}`
    this.attributes = `; Max-Age=${Math.max(1, Math.floor(options.ttlMs / 1000))}${common}`
    this.clear = `${options.cookieName}=; Max-Age=0${common}`
  }

  /** The id of the session the request's cookie names, when its signature is good; else null. */
  sessionOf(rawHeaders: readonly string[]): string | null {
    const name = this.options.cookieName
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const header = rawHeaders[i]!
      if (header.length !== 6 || header.toLowerCase() !== 'cookie') continue
      const value = rawHeaders[i + 1]!
      if (!value.includes(name)) continue
      for (const candidate of cookieValues(value, name)) {
        const id = verifySessionCookie(candidate, this.secrets)
        if (id !== null) return id
      }
    }
    return null
  }

  /** Appends the Set-Cookie for `change` (a session id to send, or null to clear the cookie). */
  addTo(headers: ResponseHeaders, change: { id: string | null }): void {
    // The id comes from an instance, i.e. from app code: never sign anything but a well-formed id.
    if (change.id !== null && !isSessionId(change.id)) return
    const cookie = change.id === null ? this.clear : `${this.options.cookieName}=${signSessionId(change.id, this.secrets[0]!)}${this.attributes}`
    const existing = headers['set-cookie']
    headers['set-cookie'] = existing === undefined ? [cookie] : [...(Array.isArray(existing) ? existing : [existing]), cookie]
  }
}

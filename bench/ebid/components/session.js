// Login sessions: the cookie `ebid=<token>` names a store key `sess:<token>` holding the user name,
// so every process and instance of every peer sees every session.
import crypto from 'node:crypto'
import { findUser } from '../data/catalogue.js'
import { kv } from '../data/kv.js'
import { sessionKey } from '../data/records.js'

export const COOKIE = 'ebid'
const TOKEN = /(?:^|;\s*)ebid=([0-9a-f]{32})(?:;|$)/

/** The token of the request's cookie, or null. */
export function tokenOf(req) {
  const match = TOKEN.exec(req.headers.cookie ?? '')
  return match ? match[1] : null
}

export const newToken = () => crypto.randomBytes(16).toString('hex')

/**
 * The logged-in user's name, or null after answering 401. A session naming a user that does not
 * exist is this app's own unhandled case (it throws: 500), which is how the `invalid-value` fault
 * on `users` shows.
 */
export async function requireUser(req, res) {
  const token = tokenOf(req)
  const name = token === null ? undefined : await kv.get(sessionKey(token))
  if (name === undefined) {
    res.status(401).json({ error: 'not logged in' })
    return null
  }
  if (!findUser(name)) throw new Error(`the session names an unknown user ${JSON.stringify(name)}`)
  return name
}

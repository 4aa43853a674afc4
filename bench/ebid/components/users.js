// users: login, logout and "about me". A login writes sess:<token> -> user name; the cookie
// carries the token.
import { Router } from 'express'
import { findUser } from '../data/catalogue.js'
import { kv } from '../data/kv.js'
import { sessionKey, userFrom, userKey } from '../data/records.js'
import { faultHook } from '../faults.js'
import { COOKIE, newToken, requireUser, tokenOf } from './session.js'

export const users = Router()
users.use(faultHook('users'))

users.post('/login', async (req, res) => {
  const { user, password } = req.body ?? {}
  const found = findUser(user)
  if (!found || found.password !== password) return void res.status(401).json({ error: 'wrong user or password' })
  const token = newToken()
  await kv.set(sessionKey(token), found.name)
  res.locals.ebidToken = token
  res.cookie(COOKIE, token, { httpOnly: true, sameSite: 'lax', path: '/' })
  res.json({ user: found.name })
})

users.post('/logout', async (req, res) => {
  const token = tokenOf(req)
  if (token !== null) await kv.delete(sessionKey(token))
  res.clearCookie(COOKIE, { path: '/' })
  res.json({ ok: true })
})

users.get('/me', async (req, res) => {
  const name = await requireUser(req, res)
  if (name === null) return
  const record = userFrom(await kv.get(userKey(name)))
  res.json({ user: name, ...record })
})

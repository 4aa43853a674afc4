// Account actions: log in (and see yourself), a wrong password, log out, "about me".
import { check, checkMe, checkMeKnown } from './checks.js'
import { ensureLogin, login } from './common.js'

async function readMe(ctx, user, cookie) {
  const { body } = await ctx.request(user, { path: '/users/me', cookie })
  checkMe(body, user)
  checkMeKnown(body, user)
  return body
}

export const accountActions = {
  /** Log in, then /users/me with the new cookie names the user and lists what it did. */
  async login(ctx, user) {
    await login(ctx, user)
    await readMe(ctx, user)
  },

  /** A wrong password is 401 with an error and sets no session cookie. */
  async badLogin(ctx, user) {
    const before = user.jar.get('ebid')
    const { body } = await ctx.request(user, { method: 'POST', path: '/users/login', json: { user: user.name, password: `not-${user.password}` }, withCookie: false, expect: [401] })
    check(typeof body?.error === 'string', 'bad login error', 'no error message')
    check(user.jar.get('ebid') === before, 'cookie set by a failed login')
  },

  /** Log out; the old token must then be refused: /users/me with it is 401. */
  async logout(ctx, user) {
    await ensureLogin(ctx, user)
    const old = user.jar.header()
    try {
      const { body } = await ctx.request(user, { method: 'POST', path: '/users/logout' })
      check(body?.ok === true, 'bad logout', JSON.stringify(body)?.slice(0, 60))
    } finally {
      // Whatever the answer, the session may be gone: never count on it again.
      user.jar.clear()
    }
    const { body } = await ctx.request(user, { path: '/users/me', cookie: old, expect: [401] })
    check(typeof body?.error === 'string', 'bad 401', 'no error message')
  },

  async aboutMe(ctx, user) {
    await ensureLogin(ctx, user)
    await readMe(ctx, user)
  },
}

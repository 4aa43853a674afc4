/**
 * Cookie sessions through real requests: `session` / `ctx.session` with `session: {}` in the
 * config. The cookie is made by the first write, signed (HMAC-SHA256) by the dispatcher, and
 * checked there; a request that fails changes nothing and sends no cookie; destroy clears it;
 * the generated secret survives a restart; a configured secret list rotates keys; sessions
 * expire `ttlMs` after their last use, refreshed by reads in the second half of their life; two
 * runtimes on one Redis share sessions.
 */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, test } from 'node:test'
import { resolveConfig } from '../../src/config/index.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { cookiePair, setCookie } from './cookies.js'
import { cleanup, send, sendJson, startApp, tempDir, type Answer } from './harness.js'

let server: CrashlessProcess
let dir: string

before(async () => {
  dir = tempDir()
  server = await startApp('session-fetch.mjs', { session: {} }, dir)
})
after(cleanup)

const COOKIE = /^crashless\.sid=([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43}); Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/

interface Who {
  id: string | null
  user: string | null
}

const whoami = (base: string, cookie?: string): Promise<Who> => sendJson<Who>(`${base}/whoami`, cookie ? { headers: { cookie } } : {})

async function login(base: string, user: string, cookie?: string): Promise<{ cookie: string; id: string; answer: Answer }> {
  const answer = await send(`${base}/login?user=${user}`, { method: 'POST', headers: cookie ? { cookie } : {} })
  assert.equal(answer.status, 200, answer.body)
  const pair = cookiePair(answer, 'crashless.sid')
  return { cookie: pair, id: (JSON.parse(answer.body) as { id: string }).id, answer }
}

test('a request that only reads has no session, makes none and sets no cookie', async () => {
  const answer = await send(`${server.url}/whoami`)
  assert.equal(answer.status, 200)
  assert.deepEqual(JSON.parse(answer.body), { id: null, user: null })
  assert.equal(answer.headers['set-cookie'], undefined)
})

test('the first write makes a session: a signed HttpOnly cookie names it on later requests', async () => {
  const { answer, cookie, id } = await login(server.url, 'ada')
  const line = setCookie(answer, 'crashless.sid')!
  const match = COOKIE.exec(line)
  assert.ok(match, line)
  assert.equal(match[1], id)
  assert.deepEqual(await whoami(server.url, cookie), { id, user: 'ada' })
  // A cookie among others, in any position, is found.
  assert.deepEqual(await whoami(server.url, `theme=dark; ${cookie}; lang=en`), { id, user: 'ada' })
  // Reading does not re-send the cookie.
  const read = await send(`${server.url}/whoami`, { headers: { cookie } })
  assert.equal(setCookie(read, 'crashless.sid'), undefined)
})

test('a cookie with a bad signature, a swapped id or no signature is ignored: no session, no error', async () => {
  const ada = await login(server.url, 'ada')
  const bob = await login(server.url, 'bob')
  const [, adaSignature] = ada.cookie.slice('crashless.sid='.length).split('.')
  const flipped = ada.cookie.slice(0, -1) + (ada.cookie.endsWith('A') ? 'B' : 'A')
  for (const forged of [flipped, `crashless.sid=${bob.id}.${adaSignature}`, `crashless.sid=${ada.id}`, 'crashless.sid=', 'crashless.sid="x.y"']) {
    assert.deepEqual(await whoami(server.url, forged), { id: null, user: null }, forged)
  }
  // The forger's next write makes a session of its own, not one of theirs.
  const cart = await send(`${server.url}/cart?sku=1`, { method: 'POST', headers: { cookie: flipped } })
  assert.equal(cart.status, 200, cart.body)
  const forgerId = (JSON.parse(cart.body) as { id: string }).id
  assert.ok(forgerId !== ada.id && forgerId !== bob.id)
  assert.deepEqual(await whoami(server.url, ada.cookie), { id: ada.id, user: 'ada' })
})

test('each client has its own session; ctx.session and the imported session are the same one', async () => {
  const ada = await login(server.url, 'ada')
  const bob = await login(server.url, 'bob')
  await sendJson(`${server.url}/cart?sku=apple`, { method: 'POST', headers: { cookie: ada.cookie } })
  await sendJson(`${server.url}/cart?sku=pear`, { method: 'POST', headers: { cookie: ada.cookie } })
  await sendJson(`${server.url}/cart?sku=fig`, { method: 'POST', headers: { cookie: bob.cookie } })
  const adaAll = await sendJson<{ entries: unknown[]; many: unknown[] }>(`${server.url}/all`, { headers: { cookie: ada.cookie } })
  assert.deepEqual(adaAll.entries, [
    { key: 'cart', value: ['apple', 'pear'] },
    { key: 'user', value: 'ada' },
  ])
  assert.deepEqual(adaAll.many, ['ada', ['apple', 'pear'], null])
  const bobAll = await sendJson<{ entries: unknown[] }>(`${server.url}/all?prefix=ca`, { headers: { cookie: bob.cookie } })
  assert.deepEqual(bobAll.entries, [{ key: 'cart', value: ['fig'] }])
  await sendJson(`${server.url}/delete?k=cart`, { method: 'POST', headers: { cookie: bob.cookie } })
  assert.deepEqual((await sendJson<{ entries: unknown[] }>(`${server.url}/all`, { headers: { cookie: bob.cookie } })).entries, [{ key: 'user', value: 'bob' }])
})

test('a request that fails after writing its session changes nothing and sends no cookie', async () => {
  const ada = await login(server.url, 'ada')
  for (const path of ['/fail/throw', '/fail/crash', '/fail/500']) {
    for (const cookie of [ada.cookie, undefined]) {
      const answer = await send(`${server.url}${path}`, { method: 'POST', headers: cookie ? { cookie } : {} })
      assert.equal(answer.status, 500, `${path}: ${answer.body}`)
      assert.equal(setCookie(answer, 'crashless.sid'), undefined, `${path} sent a session cookie`)
    }
    assert.deepEqual(await whoami(server.url, ada.cookie), { id: ada.id, user: 'ada' }, path)
  }
})

test('logout destroys the session and clears the cookie; login issues a new id', async () => {
  const first = await login(server.url, 'ada')
  const second = await login(server.url, 'bob', first.cookie)
  assert.notEqual(second.id, first.id)
  assert.deepEqual(await whoami(server.url, first.cookie), { id: first.id, user: null })
  assert.deepEqual(await whoami(server.url, second.cookie), { id: second.id, user: 'bob' })
  const out = await send(`${server.url}/logout`, { method: 'POST', headers: { cookie: second.cookie } })
  assert.equal(out.status, 200, out.body)
  assert.equal(setCookie(out, 'crashless.sid'), 'crashless.sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax')
  assert.deepEqual(await whoami(server.url, second.cookie), { id: second.id, user: null })
})

test('idempotency keys are scoped by session; a replay gives back the session cookie the first answer set', async () => {
  const ada = await login(server.url, 'ada')
  const bob = await login(server.url, 'bob')
  const key = { 'idempotency-key': 'cart-once' }
  const fromAda = await send(`${server.url}/cart?sku=x`, { method: 'POST', headers: { cookie: ada.cookie, ...key } })
  const fromBob = await send(`${server.url}/cart?sku=x`, { method: 'POST', headers: { cookie: bob.cookie, ...key } })
  assert.equal(fromBob.headers['idempotent-replayed'], undefined, 'another session with the same key must run')
  const again = await send(`${server.url}/cart?sku=x`, { method: 'POST', headers: { cookie: ada.cookie, ...key } })
  assert.equal(again.headers['idempotent-replayed'], 'true')
  assert.equal(again.body, fromAda.body)
  // A first request that made the session: its retry (the client never got the cookie) gets it.
  const fresh = await send(`${server.url}/cart?sku=y`, { method: 'POST', headers: { 'idempotency-key': 'new-visitor' } })
  const retry = await send(`${server.url}/cart?sku=y`, { method: 'POST', headers: { 'idempotency-key': 'new-visitor' } })
  assert.equal(retry.headers['idempotent-replayed'], 'true')
  assert.equal(setCookie(retry, 'crashless.sid'), setCookie(fresh, 'crashless.sid'))
  const all = await sendJson<{ entries: unknown[] }>(`${server.url}/all?prefix=cart`, { headers: { cookie: cookiePair(retry, 'crashless.sid') } })
  assert.deepEqual(all.entries, [{ key: 'cart', value: ['y'] }])
})

test('a session key can have a TTL of its own: it expires, the rest of the session stays', async () => {
  const login = await send(`${server.url}/login?user=ada`, { method: 'POST' })
  const cookie = cookiePair(login, 'crashless.sid')
  await send(`${server.url}/otp?code=123456&ms=300`, { method: 'POST', headers: { cookie } })
  const fresh = await sendJson<{ otp: string | null; user: string | null }>(`${server.url}/otp`, { headers: { cookie } })
  assert.deepEqual(fresh, { otp: '123456', user: 'ada' })
  // Wait for the expiry by polling, bounded.
  let seen: { otp: string | null; user: string | null } = fresh
  for (let i = 0; i < 100 && seen.otp !== null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    seen = await sendJson<{ otp: string | null; user: string | null }>(`${server.url}/otp`, { headers: { cookie } })
  }
  assert.deepEqual(seen, { otp: null, user: 'ada' })
  const error = await sendJson<{ code: string; message: string }>(`${server.url}/ttl`, { method: 'POST' })
  assert.equal(error.code, 'CRASHLESS_ERR_STATE')
  assert.match(error.message, /ttlMs must be a positive integer/)
})

test('config: SameSite=None needs secure; a short secret is refused without being echoed', () => {
  const opts = { baseDir: '/', source: 'test' }
  assert.throws(() => resolveConfig({ entry: 'a.ts', session: { sameSite: 'none' } }, opts), { message: /session\.secure: must be true when session\.sameSite is "none"/ })
  assert.throws(() => resolveConfig({ entry: 'a.ts', session: { secret: 'hunter2-hunter2' } }, opts), (err: Error) => /session\.secret: expected a secret of at least 32 characters/.test(err.message) && !err.message.includes('hunter2'))
  assert.equal(resolveConfig({ entry: 'a.ts' }, opts).session.enabled, false)
  assert.equal(resolveConfig({ entry: 'a.ts', session: {} }, opts).session.enabled, true)
  assert.equal(resolveConfig({ entry: 'a.ts', session: { enabled: false } }, opts).session.enabled, false)
})

test('a configured secret list: the first signs, every one verifies; cookie attributes follow the config', async () => {
  const [now, old] = ['n'.repeat(32) + '-current-key', 'o'.repeat(32) + '-retired-key']
  const app = await startApp('session-fetch.mjs', { session: { secret: [now, old], cookieName: 'sid', secure: true, sameSite: 'strict', path: '/app', ttlMs: 600_000 } })
  const id = 'A'.repeat(32)
  const sign = (key: string) => `sid=${id}.${createHmac('sha256', key).update(id).digest('base64url')}`
  assert.deepEqual(await whoami(app.url, sign(old)), { id, user: null })
  assert.deepEqual(await whoami(app.url, sign(now)), { id, user: null })
  assert.deepEqual(await whoami(app.url, sign('x'.repeat(40))), { id: null, user: null })
  const answer = await send(`${app.url}/cart?sku=1`, { method: 'POST', headers: { cookie: sign(old) } })
  assert.equal(answer.status, 200, answer.body)
  // Re-sent after the write, signed with the first key now.
  assert.equal(setCookie(answer, 'sid'), `${sign(now)}; Max-Age=600; Path=/app; HttpOnly; SameSite=Strict; Secure`)
})

test('sessions expire ttlMs after their last use; a read in the second half of the life refreshes them', async () => {
  const TTL = 4_000
  const app = await startApp('session-fetch.mjs', { session: { ttlMs: TTL }, state: { backend: 'memory' } })
  const busy = await login(app.url, 'busy')
  const idle = await login(app.url, 'idle')
  const t0 = performance.now()
  const at = async (ms: number) => {
    const wait = t0 + ms - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
  const read = (cookie: string) => send(`${app.url}/whoami`, { headers: { cookie } })

  await at(200)
  const early = await read(busy.cookie)
  assert.equal(JSON.parse(early.body).user, 'busy')
  assert.equal(setCookie(early, 'crashless.sid'), undefined, 'a read in the first half of the life rewrote the session')
  await at(TTL * 0.6)
  const late = await read(busy.cookie)
  assert.equal(JSON.parse(late.body).user, 'busy')
  assert.match(setCookie(late, 'crashless.sid') ?? 'no cookie', /^crashless\.sid=.+; Max-Age=4;/, 'the refresh re-sends the cookie with a fresh Max-Age')
  // Past the first life: the refreshed session is there, the idle one is gone.
  await at(TTL + 500)
  assert.deepEqual(JSON.parse((await read(idle.cookie)).body), { id: idle.id, user: null })
  assert.equal(JSON.parse((await read(busy.cookie)).body).user, 'busy')
  // Left alone for a whole life, it goes too.
  const lastUse = performance.now()
  await new Promise((resolve) => setTimeout(resolve, TTL + 500 - (performance.now() - lastUse)))
  assert.deepEqual(JSON.parse((await read(busy.cookie)).body), { id: busy.id, user: null })
})

test('two runtimes on one Redis share sessions (and the secret generated by the first)', async () => {
  const redis = await startRedisServer()
  try {
    const state = { backend: 'redis' as const, redisUrl: redis.url, redisPrefix: 'sessions-test:' }
    const a = await startApp('session-fetch.mjs', { session: {}, state })
    const b = await startApp('session-fetch.mjs', { session: {}, state })
    const ada = await login(a.url, 'ada')
    assert.deepEqual(await whoami(b.url, ada.cookie), { id: ada.id, user: 'ada' })
    await sendJson(`${b.url}/cart?sku=kiwi`, { method: 'POST', headers: { cookie: ada.cookie } })
    const all = await sendJson<{ entries: unknown[] }>(`${a.url}/all?prefix=cart`, { headers: { cookie: ada.cookie } })
    assert.deepEqual(all.entries, [{ key: 'cart', value: ['kiwi'] }])
    await Promise.all([a.stop(), b.stop()])
  } finally {
    await redis.stop()
  }
})

// Last: stops the shared server.
test('the generated secret is kept in the store: cookies stay valid across a restart (sqlite)', async () => {
  const ada = await login(server.url, 'ada')
  assert.equal(await server.stop(), 0)
  const again = await startApp('session-fetch.mjs', { session: {} }, dir)
  assert.deepEqual(await whoami(again.url, ada.cookie), { id: ada.id, user: 'ada' })
})

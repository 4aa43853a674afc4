/**
 * The express-session adapter with a real, ordinary Express app (test/fixtures/state/
 * express-session-app.mjs: express-session as everyone uses it, plus `store: new
 * CrashlessSessionStore()`). Login sets a value; a request that fails after changing
 * `req.session` (uncaught exception, a thrown error answered 500 by Express, process.exit, an
 * endless loop) leaves it as it was; sessions survive an instance reboot and a restart of crashless (sqlite); parallel
 * updates of one session are not lost (a conflict re-runs the request).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { cookiePair } from './cookies.js'
import { cleanup, send, sendJson, startApp, tempDir } from './harness.js'

let server: CrashlessProcess
let dir: string

before(async () => {
  dir = tempDir()
  server = await startApp('express-session-app.mjs', { timeouts: { leaseMs: 400 } }, dir)
})
after(cleanup)

interface Me {
  user: string | null
  views: number
}

async function login(base: string, user: string): Promise<string> {
  const answer = await send(`${base}/login`, { method: 'POST', body: JSON.stringify({ user }), headers: { 'content-type': 'application/json' } })
  assert.equal(answer.status, 200, answer.body)
  return cookiePair(answer, 'connect.sid')
}

const me = (base: string, cookie: string): Promise<Me> => sendJson<Me>(`${base}/me`, { headers: { cookie } })

test('login stores the session; later requests with its cookie see it; others do not', async () => {
  const alice = await login(server.url, 'alice')
  const bob = await login(server.url, 'bob')
  assert.deepEqual(await me(server.url, alice), { user: 'alice', views: 0 })
  assert.deepEqual(await me(server.url, bob), { user: 'bob', views: 0 })
  // An unknown client gets a fresh, empty session (saveUninitialized: false: nothing stored).
  const stranger = await send(`${server.url}/me`)
  assert.deepEqual(JSON.parse(stranger.body), { user: null, views: 0 })
  assert.equal(stranger.headers['set-cookie'], undefined)
})

test('a request that fails after changing req.session leaves the stored session unchanged', async () => {
  const alice = await login(server.url, 'alice')
  for (const path of ['/crash', '/throw', '/exit']) {
    const answer = await send(`${server.url}${path}`, { method: 'POST', headers: { cookie: alice } })
    assert.equal(answer.status, 500, `${path}: ${answer.status} ${answer.body.slice(0, 200)}`)
    assert.deepEqual(await me(server.url, alice), { user: 'alice', views: 0 }, path)
  }
})

test('an endless loop after changing req.session costs its instance; the session survives the reboot', async () => {
  const alice = await login(server.url, 'alice')
  const answer = await send(`${server.url}/loop`, { method: 'POST', headers: { cookie: alice } })
  // The loop starts after an await (express-session's store read), so it may not be attributed;
  // then the POST cannot be re-served and gets 502. Either way it failed.
  assert.ok([500, 502].includes(answer.status), `${answer.status} ${answer.body}`)
  await server.waitForLog((line) => line.event === 'instance-lost' && line.reason === 'lease-expired')
  // Whichever instance serves them now (the replacement included), every read finds it.
  for (let i = 0; i < 6; i++) assert.deepEqual(await me(server.url, alice), { user: 'alice', views: 0 })
})

test('parallel updates of one session are all kept (conflicting ones re-run)', async () => {
  const carol = await login(server.url, 'carol')
  const N = 20
  const answers = await Promise.all(Array.from({ length: N }, () => send(`${server.url}/view`, { method: 'POST', headers: { cookie: carol } })))
  assert.deepEqual(answers.map((a) => a.status), Array(N).fill(200))
  assert.deepEqual([...answers.map((a) => (JSON.parse(a.body) as { views: number }).views)].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i + 1))
  assert.deepEqual(await me(server.url, carol), { user: 'carol', views: N })
})

test('logout destroys the session', async () => {
  const dave = await login(server.url, 'dave')
  await sendJson(`${server.url}/logout`, { method: 'POST', headers: { cookie: dave } })
  assert.deepEqual(await me(server.url, dave), { user: null, views: 0 })
})

// Last: stops the shared server.
test('sessions survive a restart of crashless (sqlite)', async () => {
  const erin = await login(server.url, 'erin')
  await sendJson(`${server.url}/view`, { method: 'POST', headers: { cookie: erin } })
  assert.equal(await server.stop(), 0)
  const again = await startApp('express-session-app.mjs', {}, dir)
  assert.deepEqual(await me(again.url, erin), { user: 'erin', views: 1 })
})

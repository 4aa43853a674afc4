/**
 * State continuity under the keeper (issue 10.6), with the sqlite backend (the default) and with
 * Redis (a real redis-server): the durable store, sessions, idempotency records and the immunity
 * table are the same before and after a kill -9 of the active runtime, and after a reload.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { writeConfig } from './harness.js'

/** The same story for one backend: `config` gives the config's state and immunity sections. */
function describeBackend(name: string, config: () => Promise<{ extra: object; stop: () => Promise<void> }>): void {
  describe(`${name} backend`, () => {
    let server: CrashlessProcess
    let file: ReturnType<typeof writeConfig>
    let stopBackend: () => Promise<void> = async () => {}
    let cookie = ''
    let charge: Record<string, unknown>

    before(async () => {
      const backend = await config()
      stopBackend = backend.stop
      file = writeConfig({ session: {}, log: { level: 'debug' }, ...backend.extra })
      server = await startCrashless(fixture('keeper-state-app.mjs'), ['--instances', '1', '--config', file.file])
    })
    after(async () => {
      await server?.stop()
      file?.cleanup()
      await stopBackend()
    })

    /** One request on its own connection, with the session cookie once there is one. */
    function call(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
      return new Promise((resolve, reject) => {
        const req = http.request(`${server.url}${path}`, { method, agent: false, headers: { ...(cookie ? { cookie } : {}), ...headers } }, (res) => {
          const setCookie = res.headers['set-cookie']?.[0]
          if (setCookie) cookie = setCookie.split(';')[0]!
          let body = ''
          res.setEncoding('utf8').on('data', (c: string) => (body += c))
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(body) as Record<string, unknown> }))
        })
        req.on('error', reject)
        req.end()
      })
    }

    async function nth(event: string, n: number): Promise<Record<string, unknown>> {
      const all = (): typeof server.logs => server.logs.filter((l) => l.event === event)
      await server.waitForLog(() => all().length >= n, 20_000)
      return all()[n - 1]!
    }

    async function assertSameState(count: number): Promise<void> {
      assert.equal((await call('GET', '/count?key=a')).json.value, count)
      assert.equal((await call('GET', '/me')).json.user, 'ann', 'the session survived')
      const again = await call('POST', '/charge', { 'idempotency-key': 'charge-1' })
      assert.deepEqual(again.json, charge, 'a retry of the keyed charge gets the recorded answer; the app did not run again')
      const boom = await call('GET', '/boom')
      assert.equal(boom.status, 500)
      assert.equal((boom.json.error as { code: string }).code, 'CRASHLESS_ERR_QUARANTINED', 'the quarantine learned by the runtime before holds')
    }

    test('before: counts, a login, a keyed charge and a quarantined signature', async () => {
      for (let i = 1; i <= 3; i++) assert.equal((await call('POST', '/count?key=a')).json.value, i)
      assert.equal((await call('POST', '/login?user=ann')).status, 200)
      charge = (await call('POST', '/charge', { 'idempotency-key': 'charge-1' })).json
      assert.equal(charge.runs, 1)
      // An error escaping in a timer: the ladder runs it under its tweaks, then quarantines it.
      assert.equal((await call('GET', '/boom')).status, 500)
      const quarantined = await server.waitForLog((l) => l.event === 'quarantined' && l.signature === 'GET /boom #-')
      assert.ok(quarantined.incidentId)
      // Persisted to the immunity store (within 100 ms), which is what a death can keep.
      await server.waitForLog((l) => l.event === 'immunity-persisted' && l.time! >= quarantined.time!)
    })

    test('after kill -9 of the active runtime: the same state', async () => {
      await nth('standby-ready', 1)
      process.kill(server.runtimePid, 'SIGKILL')
      await nth('runtime-promoted', 1)
      await nth('immunity-refreshed', 2)
      await assertSameState(3)
      assert.equal((await call('POST', '/count?key=a')).json.value, 4)
    })

    test('after a reload: the same state', async () => {
      await nth('standby-ready', 2)
      server.child.kill('SIGHUP')
      await nth('reloaded', 1)
      await nth('immunity-refreshed', 3)
      await assertSameState(4)
    })
  })
}

describeBackend('sqlite', async () => ({ extra: {}, stop: async () => {} }))

describeBackend('redis', async () => {
  const redis: RedisServer = await startRedisServer()
  return {
    extra: { state: { backend: 'redis', redisUrl: redis.url, redisPrefix: 'keeper-test:' }, immunity: { store: 'redis' } },
    stop: () => redis.stop(),
  }
})

/**
 * Two runtimes sharing one store (issue 14.3), with the sqlite backend (the default: one file,
 * several processes) and with Redis (a real redis-server): counter increments sent on fresh
 * connections land on both runtimes, and every committed one is there exactly once (no lost
 * update, no doubled one); requests with one idempotency key sent to both at once take effect
 * once, and both clients get the same answer.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { writeConfig } from './harness.js'

const INCREMENTS = 200
const AT_ONCE = 20
const KEYS = 12

/** One request on a connection of its own (so each may go to either runtime). */
function call(url: string, method: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(body) as Record<string, unknown> }))
    })
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer from ${url}`)))
    req.on('error', reject)
    req.end()
  })
}

function describeBackend(name: string, backend: () => Promise<{ extra: object; stop: () => Promise<void> }>): void {
  describe(`${name} backend`, () => {
    let server: CrashlessProcess
    let file: ReturnType<typeof writeConfig>
    let stopBackend: () => Promise<void> = async () => {}

    before(async () => {
      const store = await backend()
      stopBackend = store.stop
      file = writeConfig({ runtimes: 2, instances: 1, keeper: { standby: false }, ...store.extra })
      server = await startCrashless(fixture('keeper-state-app.mjs'), ['--config', file.file])
      await server.waitForLog(() => server.logs.filter((l) => l.event === 'listening').length === 2, 30_000)
    })
    after(async () => {
      await server?.stop()
      file?.cleanup()
      await stopBackend()
    })

    test(`${INCREMENTS} increments of one key from both runtimes: each committed value once, none lost`, async (t) => {
      const answers: { status: number; json: Record<string, unknown> }[] = []
      for (let sent = 0; sent < INCREMENTS; sent += AT_ONCE) {
        answers.push(...(await Promise.all(Array.from({ length: AT_ONCE }, () => call(`${server.url}/count?key=shared`, 'POST')))))
      }
      const committed = answers.filter((a) => a.status === 200)
      const values = committed.map((a) => a.json.value as number).sort((a, b) => a - b)
      const byPid = new Map<number, number>()
      for (const a of committed) byPid.set(a.json.pid as number, (byPid.get(a.json.pid as number) ?? 0) + 1)
      const conflicts = server.allLogs.filter((l) => l.event === 'commit-conflict').length
      t.diagnostic(`${committed.length} committed (${[...byPid.values()].join(' + ')} by the two runtimes), ${answers.length - committed.length} refused, ${conflicts} conflicts re-run`)
      assert.equal(byPid.size, 2, 'both runtimes committed increments')
      assert.deepEqual(values, Array.from({ length: committed.length }, (_, i) => i + 1), 'each value committed exactly once: no lost or doubled increment')
      assert.equal((await call(`${server.url}/count?key=shared`, 'GET')).json.value, committed.length)
      for (const a of answers) if (a.status !== 200) assert.equal(a.status, 503, 'only a request that kept conflicting may be refused, and then with nothing applied')
    })

    test(`${KEYS} keyed charges, each sent twice at once: one effect per key, the same answer to both`, async (t) => {
      const before = (await call(`${server.url}/charges`, 'GET')).json.value as number
      const outcomes: Record<number, number> = {}
      for (let k = 0; k < KEYS; k++) {
        const headers = { 'idempotency-key': `${name}-charge-${k}` }
        const pair = await Promise.all([call(`${server.url}/charge`, 'POST', headers), call(`${server.url}/charge`, 'POST', headers)])
        const ok = pair.filter((a) => a.status === 200)
        // Both on one runtime: the second is told the first is in progress (409); on two, both run
        // and only one commits: the other is answered with the winner's response.
        for (const a of pair) if (a.status !== 200) assert.equal(a.status, 409)
        assert.ok(ok.length >= 1)
        for (const a of ok) assert.deepEqual(a.json, ok[0]!.json)
        outcomes[ok.length] = (outcomes[ok.length] ?? 0) + 1
      }
      const raced = server.allLogs.filter((l) => l.event === 'idempotency-duplicate').length
      t.diagnostic(`pairs answered 200 twice: ${outcomes[2] ?? 0} (of which ${raced} raced to the commit on both runtimes), 200 + 409: ${outcomes[1] ?? 0}`)
      assert.equal((await call(`${server.url}/charges`, 'GET')).json.value, before + KEYS, 'one effect per key')
    })
  })
}

describeBackend('sqlite', async () => ({ extra: {}, stop: async () => {} }))

describeBackend('redis', async () => {
  const redis: RedisServer = await startRedisServer()
  return {
    extra: { state: { backend: 'redis', redisUrl: redis.url, redisPrefix: 'runtimes-test:' }, immunity: { store: 'redis' } },
    stop: () => redis.stop(),
  }
})

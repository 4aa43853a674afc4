/**
 * Backend selection through `state.backend`: the memory and redis backends run the core of the
 * request-level checks (API, read-your-writes, failed requests, contention); with redis, output
 * commit is observable: while Redis is frozen (SIGSTOP) a write's client gets no response. A
 * store that cannot open stops `crashless run` with an error naming the option.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { CrashlessConfig } from '../../src/config/index.js'
import { fixture, runCrashlessToExit, type CrashlessProcess } from '../helpers/crashless-process.js'
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { cleanup, getKey, send, sendJson, setKey, startApp, tempDir } from './harness.js'

let redis: RedisServer
before(async () => {
  redis = await startRedisServer()
})
after(async () => {
  await cleanup()
  await redis?.stop()
})

function backendSuite(kind: 'memory' | 'redis', config: () => CrashlessConfig['state']): void {
  describe(`${kind} backend`, () => {
    let server: CrashlessProcess
    before(async () => {
      server = await startApp('store-fetch.mjs', { state: config() })
    })

    test('it is the backend in use', async () => {
      const opened = await server.waitForLog((l) => l.event === 'state-open')
      assert.equal(opened.backend, kind)
    })

    test('set, get, delete, getMany, list and binary values', async () => {
      await setKey(server.url, 'b:1', { one: 1 })
      await setKey(server.url, 'b:2', [2])
      await setKey(server.url, 'c:1', 'other prefix')
      assert.deepEqual(await getKey(server.url, 'b:1'), { one: 1 })
      assert.deepEqual((await sendJson<{ values: unknown[] }>(`${server.url}/many?keys=b:2,b:none,b:1`)).values, [[2], null, { one: 1 }])
      const { entries } = await sendJson<{ entries: { key: string }[] }>(`${server.url}/list?prefix=b:`)
      assert.deepEqual(entries.map((e) => e.key), ['b:1', 'b:2'])
      await sendJson(`${server.url}/delete?k=b:1`, { method: 'POST' })
      assert.equal(await getKey(server.url, 'b:1'), undefined)
      const bytes = new Uint8Array([0, 1, 2, 250, 255])
      assert.equal((await send(`${server.url}/bin?k=bin`, { method: 'PUT', body: bytes })).status, 200)
      const { request } = await import('undici')
      const res = await request(`${server.url}/bin?k=bin`)
      assert.deepEqual(new Uint8Array(await res.body.arrayBuffer()), bytes)
    })

    test('read-your-writes inside a request', async () => {
      await setKey(server.url, 'r:committed', 'C')
      const seen = await sendJson<Record<string, unknown>>(`${server.url}/ryw?p=r`, { method: 'POST' })
      assert.equal(seen.afterSet, 'A')
      assert.equal(seen.afterDelete, null)
      assert.deepEqual(seen.listAfterDelete, [{ key: 'r:a', value: 'A' }])
    })

    test('a request that writes then throws or crashes leaves nothing', async () => {
      for (const path of ['/fail/throw', '/fail/crash']) {
        const answer = await send(`${server.url}${path}?k=f${path}`, { method: 'POST' })
        assert.equal(answer.status, 500, answer.body)
        assert.equal(await getKey(server.url, `f${path}`), undefined)
      }
    })

    test('50 concurrent increments across 2 instances lose no update', async () => {
      const answers = await Promise.all(Array.from({ length: 50 }, () => send(`${server.url}/incr?k=n`, { method: 'POST' })))
      assert.deepEqual(answers.filter((a) => a.status !== 200).map((a) => a.body), [])
      assert.equal(await getKey(server.url, 'n'), 50)
    })
  })
}

backendSuite('memory', () => ({ backend: 'memory' }))
backendSuite('redis', () => ({ backend: 'redis', redisUrl: redis.url, redisPrefix: 'requests-test:' }))

test('redis: output commit — while Redis is frozen, the client of a write gets no response', async () => {
  const server = await startApp('store-fetch.mjs', { state: { backend: 'redis', redisUrl: redis.url, redisPrefix: 'frozen-test:' } })
  // A blind write: the request runs without reading, so only its commit needs Redis.
  process.kill(redis.pid, 'SIGSTOP')
  let answered = false
  let pending: Promise<Awaited<ReturnType<typeof send>>>
  try {
    pending = send(`${server.url}/set?k=frozen`, { method: 'POST', body: '"value"', headers: { 'content-type': 'application/json' } })
    void pending.then(() => (answered = true), () => (answered = true))
    // Proving that something did not happen takes a wait: long enough for the response to have
    // come back many times over, were it sent before the commit.
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(answered, false, 'the response was sent before its commit was acknowledged by Redis')
  } finally {
    process.kill(redis.pid, 'SIGCONT')
  }
  const answer = await pending
  assert.equal(answer.status, 200, answer.body)
  assert.equal(await getKey(server.url, 'frozen'), 'value')
})

describe('a store that cannot open stops crashless run, naming the option', () => {
  async function runWith(state: CrashlessConfig['state']): Promise<{ code: number | null; stderr: string }> {
    const dir = tempDir()
    const file = join(dir, 'crashless.config.mjs')
    writeFileSync(file, `export default ${JSON.stringify({ entry: fixture('state/store-fetch.mjs'), instances: 1, state })}\n`)
    return runCrashlessToExit(['run', '--config', file, '--port', '0', '--admin-port', '0'], { cwd: dir, timeoutMs: 20_000 })
  }

  test('sqlite: an unusable path → state.path', async () => {
    const dir = tempDir()
    // A file where the database's directory should be.
    writeFileSync(join(dir, 'blocker'), '')
    const { code, stderr } = await runWith({ backend: 'sqlite', path: join(dir, 'blocker', 'state.db') })
    assert.equal(code, 1)
    assert.match(stderr, /invalid config: state\.path: cannot open the sqlite state store .*blocker/)
  })

  test('redis: nothing listening → state.redisUrl', async () => {
    const port = await freePort()
    const { code, stderr } = await runWith({ backend: 'redis', redisUrl: `redis://127.0.0.1:${port}` })
    assert.equal(code, 1)
    assert.match(stderr, new RegExp(`invalid config: state\\.redisUrl: cannot connect to the redis state store at redis://127\\.0\\.0\\.1:${port}`))
  })
})

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { createBackend, type RedisBackend } from '../../src/state/index.js'
import { COMMIT_SCRIPT } from '../../src/state/redis-scripts.js'
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { describeBackendContract } from './backend-contract.js'
import { bytes, text } from './contract-helpers.js'
import { waitFor } from './wait-for.js'

let server: RedisServer
let admin: Redis
before(async () => {
  server = await startRedisServer()
  admin = new Redis(server.url)
})
after(async () => {
  await admin?.quit()
  await server?.stop()
})

/** A fresh namespace per backend: the tests share one server but never each other's keys. */
const freshPrefix = (): string => `test-${randomBytes(6).toString('hex')}:`

describeBackendContract('redis', () => createBackend({ kind: 'redis', url: server.url, prefix: freshPrefix() }))

describe('redis backend', () => {
  test('data survives a new client connection; namespaces do not see each other', async () => {
    const prefix = freshPrefix()
    const first = await createBackend({ kind: 'redis', url: server.url, prefix })
    const written = await first.commit([], [{ key: 'shared', value: bytes('from first'), ttlMs: 60_000 }])
    assert.ok(written.ok)
    await first.close()
    const second = await createBackend({ kind: 'redis', url: server.url, prefix })
    const other = await createBackend({ kind: 'redis', url: server.url, prefix: freshPrefix() })
    try {
      const [entry] = await second.get(['shared'])
      assert.deepEqual([text(entry!.value), entry!.version], ['from first', written.version])
      assert.ok(entry!.expiresAt! > Date.now() + 50_000)
      assert.deepEqual(await other.get(['shared']), [])
      assert.deepEqual(await other.list(''), [])
      assert.ok((await admin.keys(`${prefix}*`)).every((key) => key.startsWith(prefix)))
    } finally {
      await second.close()
      await other.close()
    }
  })

  test('commits still work after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const backend = await createBackend({ kind: 'redis', url: server.url, prefix: freshPrefix() })
    try {
      assert.ok((await backend.commit([], [{ key: 'a', value: bytes('1') }])).ok)
      await admin.script('FLUSH')
      const [a] = await backend.get(['a'])
      assert.ok((await backend.commit([{ key: 'a', version: a!.version }], [{ key: 'a', value: bytes('2') }])).ok)
      assert.equal((await backend.list('')).length, 1)
    } finally {
      await backend.close()
    }
  })

  test('index members of expired keys are cleaned up by later commits and by listing', async () => {
    const prefix = freshPrefix()
    const backend = await createBackend({ kind: 'redis', url: server.url, prefix })
    try {
      await backend.commit([], Array.from({ length: 30 }, (_, i) => ({ key: `tmp:${i}`, value: bytes('x'), ttlMs: 20 })))
      await backend.commit([], [{ key: 'keep', value: bytes('k') }])
      assert.equal(await admin.zcard(`${prefix}index`), 31)
      await waitFor(async () => (await admin.exists(`${prefix}k:tmp:29`)) === 0, 'the TTL keys to expire in redis')
      await backend.commit([], [{ key: 'other', value: bytes('o') }])
      const afterCommit = await admin.zcard(`${prefix}index`)
      assert.ok(afterCommit < 32, `a commit removed some stale members (${afterCommit} left)`)
      assert.deepEqual((await backend.list('')).map((e) => e.key), ['keep', 'other'])
      assert.equal(await admin.zcard(`${prefix}index`), 2)
      assert.equal(await admin.zcard(`${prefix}expiry`), 0)
    } finally {
      await backend.close()
    }
  })

  test('the commit script applies a commit id once: running it again returns the recorded result', async () => {
    const p = freshPrefix()
    const run = (id: string, recordTtlMs: number) =>
      admin.eval(COMMIT_SCRIPT.lua, 6, `${p}version`, `${p}index`, `${p}expiry`, `${p}commit:${id}`, `${p}k:a`, `${p}k:a`, `${p}k:`, 1, 1, recordTtlMs, 0, 'a', 's', 'v1', 0)
    assert.deepEqual(await run('same', 60_000), [1, 1])
    assert.deepEqual(await run('same', 60_000), [1, 1], 'a resend is answered from the record')
    assert.equal(await admin.get(`${p}version`), '1', 'and applies nothing')
    assert.deepEqual(await admin.hgetall(`${p}k:a`), { v: 'v1', ver: '1' })
    const ttl = await admin.pttl(`${p}commit:same`)
    assert.ok(ttl > 50_000 && ttl <= 60_000)
    assert.deepEqual(await run('other', 0), [0, 1], 'without a record, the same commit would conflict with itself')
  })

  test('no acknowledged increment is lost or doubled while connections are killed', async (t) => {
    // Without the commit record (commitRecordTtlMs: 0) this test sees ioredis resend commits that
    // were applied, so the counter ends above the acknowledged count.
    const backend: RedisBackend = await createBackend({ kind: 'redis', url: server.url, prefix: freshPrefix() })
    let acknowledged = 0
    let failed = 0
    let kills = 0
    let running = true
    const killer = (async () => {
      while (running && kills < 20) {
        await new Promise((resolve) => setTimeout(resolve, 15))
        kills += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'))
      }
    })()
    try {
      const worker = async () => {
        for (let i = 0; i < 60; i++) {
          try {
            const [entry] = await backend.get(['n'])
            const result = await backend.commit([{ key: 'n', version: entry?.version ?? 0 }], [{ key: 'n', value: bytes(String(Number(entry ? text(entry.value) : '0') + 1)) }])
            if (result.ok) acknowledged++
          } catch (err) {
            // A command that could not be resent is an error, never a silent success.
            assert.equal((err as { code?: string }).code, 'CRASHLESS_ERR_STATE')
            failed++
          }
        }
      }
      await Promise.all(Array.from({ length: 6 }, worker))
    } finally {
      running = false
      await killer
    }
    // The last kill may have left the client reconnecting: commands fail at once meanwhile
    // (no offline queue), so read once it is back.
    const [entry] = await waitFor(() => backend.get(['n']).catch(() => null), 'the client to reconnect', 5_000, 20)
    await backend.close()
    t.diagnostic(`redis: ${acknowledged} acknowledged increments, ${failed} failed calls, ${kills} connections killed`)
    assert.ok(kills > 0, 'the test killed at least one connection')
    assert.equal(Number(text(entry!.value)), acknowledged)
  })

  test('an unreachable redis fails fast with CRASHLESS_ERR_STATE', async () => {
    const port = await freePort()
    const started = Date.now()
    await assert.rejects(createBackend({ kind: 'redis', url: `redis://user:secret@127.0.0.1:${port}` }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CRASHLESS_ERR_STATE')
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`))
      assert.doesNotMatch(err.message, /secret/)
      return true
    })
    assert.ok(Date.now() - started < 5000)
  })
})

/**
 * `immunity.store: 'redis'`: what one crashless learned is known to the next one that starts
 * against the same Redis (a restarted node, or another node of a cluster).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { removeTempDirs, startIn, tempDir } from '../admin/run-cli.js'
import { agent, assertCrashlessError, eventsSince, send } from '../faults/harness.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'

let redis: RedisServer
const running: CrashlessProcess[] = []

before(async () => {
  redis = await startRedisServer()
})

after(async () => {
  for (const server of running.splice(0)) await server.stop()
  await agent.close()
  await redis?.stop()
  removeTempDirs()
})

test('a second node loads the quarantine the first one learned and refuses the poison unrun', async () => {
  // Separate working directories: nothing is shared but Redis.
  const config = { immunity: { threshold: 2, quarantineMs: 60_000, store: 'redis' }, state: { redisUrl: redis.url, redisPrefix: 'shared-test:' } }
  const first = await startIn(tempDir(), config)
  running.push(first)
  // The recovery ladder finds no cure: one request is enough for the verdict.
  assertCrashlessError(await send(`${first.url}/fault/throw?node=1`), 500, 'CRASHLESS_ERR_POISON')
  await first.waitForLog((l) => l.event === 'quarantined', 5_000)
  // Written at most ~100 ms after it was learned; SIGTERM flushes it at once.
  assert.equal(await first.stop(), 0)

  const second = await startIn(tempDir(), config)
  running.push(second)
  const loaded = second.logs.find((l) => l.event === 'immunity-loaded')
  assert.deepEqual([loaded?.store, loaded?.quarantined], ['redis', 1])
  assertCrashlessError(await send(`${second.url}/fault/throw?node=1`), 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal(eventsSince(second, 0, 'request-crashed').length, 0)
})

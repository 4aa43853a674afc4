import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryBackend, createBackend } from '../../src/state/index.js'
import { describeBackendContract } from './backend-contract.js'
import { bytes } from './contract-helpers.js'

describeBackendContract('memory', () => createBackend({ kind: 'memory' }))

test('memory: the sweep drops expired entries and skips keys rewritten since', async () => {
  const backend = new MemoryBackend({ sweepIntervalMs: 60_000 })
  try {
    await backend.commit([], [{ key: 'a', value: bytes('1'), ttlMs: 10 }, { key: 'b', value: bytes('1'), ttlMs: 10 }, { key: 'c', value: bytes('1'), ttlMs: 10 }])
    // b is rewritten without expiry and c with a later one: their old heap items are stale.
    await backend.commit([], [{ key: 'b', value: bytes('2') }, { key: 'c', value: bytes('2'), ttlMs: 60_000 }])
    assert.equal(backend.sweep(Date.now() + 1000), 1, 'only a is due')
    assert.deepEqual((await backend.get(['a', 'b', 'c'])).map((e) => e.key), ['b', 'c'])
    assert.equal(backend.sweep(Date.now() + 120_000), 1, 'c is due once its new TTL ran out')
  } finally {
    await backend.close()
  }
})

test('memory: a bad sweep interval and an unknown kind are rejected with CRASHLESS_ERR_STATE', async () => {
  await assert.rejects(createBackend({ kind: 'memory', sweepIntervalMs: 0 }), { code: 'CRASHLESS_ERR_STATE' })
  await assert.rejects(createBackend({ kind: 'postgres' } as never), { code: 'CRASHLESS_ERR_STATE', message: /unknown state backend kind "postgres"/ })
})

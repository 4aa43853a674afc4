import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ReadCache } from '../../src/host/read-cache.js'
import type { StoredEntry } from '../../src/state/index.js'

const entry = (key: string, version: number, bytes = 4, expiresAt: number | null = null): StoredEntry => ({ key, value: new Uint8Array(bytes), version, expiresAt })

test('keeps what a get read, absent keys included, and forgets what a commit wrote', () => {
  const cache = new ReadCache(1 << 20)
  cache.fill(['a', 'b'], [entry('a', 3)], cache.epoch)
  assert.equal(cache.lookup('a', 0)?.version, 3)
  assert.equal(cache.lookup('b', 0), null, 'b is known absent')
  assert.equal(cache.lookup('c', 0), undefined, 'c is unknown')
  cache.invalidate(['a'])
  assert.equal(cache.lookup('a', 0), undefined)
  assert.equal(cache.lookup('b', 0), null)
})

test('an answer that raced with an invalidation is not kept (it may carry the old value)', () => {
  const cache = new ReadCache(1 << 20)
  const sentAt = cache.epoch
  cache.invalidate(['x']) // a commit of x arrives while the read of x is on its way back
  cache.fill(['x'], [entry('x', 1)], sentAt)
  assert.equal(cache.lookup('x', 0), undefined)
  cache.fill(['x'], [entry('x', 2)], cache.epoch)
  assert.equal(cache.lookup('x', 0)?.version, 2)
})

test('an expired entry is unknown, not served', () => {
  const cache = new ReadCache(1 << 20)
  cache.fill(['t'], [entry('t', 1, 4, 1_000)], cache.epoch)
  assert.equal(cache.lookup('t', 999)?.version, 1)
  assert.equal(cache.lookup('t', 1_000), undefined)
  assert.equal(cache.size, 0, 'and dropped')
})

test('bounded by bytes: the oldest go first; a value too big for it is never kept', () => {
  const cache = new ReadCache(10_000)
  for (let i = 0; i < 40; i++) cache.fill([`k${i}`], [entry(`k${i}`, 1, 1_000)], cache.epoch)
  assert.ok(cache.size < 40 && cache.size >= 8, `kept ${cache.size}`)
  assert.equal(cache.lookup('k0', 0), undefined, 'the oldest went')
  assert.equal(cache.lookup('k39', 0)?.version, 1, 'the newest stayed')
  cache.fill(['big'], [entry('big', 1, 5_000)], cache.epoch)
  assert.equal(cache.lookup('big', 0), undefined)
})

test('sized 0 it is off and keeps nothing', () => {
  const cache = new ReadCache(0)
  assert.equal(cache.enabled, false)
  cache.fill(['a'], [entry('a', 1)], cache.epoch)
  assert.equal(cache.lookup('a', 0), undefined)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mergeConfig } from '../../src/config/merge-config.js'
import type { CrashlessConfig } from '../../src/config/index.js'

test('sections merge option by option; the later layer wins', () => {
  const merged = mergeConfig(
    { port: 3000, host: 'localhost', limits: { queue: 10, concurrency: 8 } },
    { port: 4000, limits: { queue: 99 } },
  )
  assert.deepEqual(merged, { port: 4000, host: 'localhost', limits: { queue: 99, concurrency: 8 } })
})

test('undefined in the later layer leaves the earlier value alone', () => {
  const merged = mergeConfig({ port: 3000, limits: { queue: 10 } }, { port: undefined, limits: { queue: undefined } })
  assert.deepEqual(merged, { port: 3000, limits: { queue: 10 } })
})

test('arrays replace rather than concatenate', () => {
  const merged = mergeConfig({ replay: { methods: ['GET', 'PUT'] } }, { replay: { methods: ['POST'] } })
  assert.deepEqual(merged.replay?.methods, ['POST'])
})

test('the result shares nothing with its inputs, which are left unchanged', () => {
  const base: CrashlessConfig = { limits: { queue: 1 }, replay: { methods: ['GET'] } }
  const over: CrashlessConfig = { timeouts: { leaseMs: 100 } }
  const merged = mergeConfig(base, over)
  merged.limits!.queue = 2
  merged.replay!.methods!.push('PUT')
  merged.timeouts!.leaseMs = 5
  assert.deepEqual(base, { limits: { queue: 1 }, replay: { methods: ['GET'] } })
  assert.deepEqual(over, { timeouts: { leaseMs: 100 } })
})

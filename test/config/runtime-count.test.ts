import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { test } from 'node:test'
import { resolveConfig } from '../../src/config/index.js'
import { instancesPerRuntime, runtimeCount } from '../../src/config/runtime-count.js'

test("runtimes: a number as given; 'auto' is half the cores, at least one", () => {
  const rows: [number | 'auto', number, number][] = [
    [1, 32, 1],
    [3, 2, 3],
    ['auto', 1, 1],
    ['auto', 2, 1],
    ['auto', 3, 1],
    ['auto', 8, 4],
    ['auto', 32, 16],
    ['auto', 256, 64],
  ]
  for (const [runtimes, cores, expected] of rows) assert.equal(runtimeCount(runtimes, cores), expected, `${String(runtimes)} on ${cores} cores`)
})

test('instances per runtime when unset: the cores shared among the runtimes, at least one', () => {
  const rows: [number, number, number][] = [
    [1, 2, 2],
    [1, 8, 8],
    [2, 2, 1],
    [4, 8, 2],
    [16, 32, 2],
    [3, 2, 1],
  ]
  for (const [runtimes, cores, expected] of rows) assert.equal(instancesPerRuntime(runtimes, cores), expected, `${runtimes} runtimes on ${cores} cores`)
})

test('the resolved config carries the count, and instances set explicitly are kept per runtime', () => {
  const opts = { baseDir: '/', source: 'test' }
  const cores = availableParallelism()
  const auto = resolveConfig({ entry: '/a.ts', runtimes: 'auto' }, opts)
  assert.equal(auto.runtimes, runtimeCount('auto', cores))
  assert.equal(auto.instances, auto.runtimes > 1 ? instancesPerRuntime(auto.runtimes, cores) : cores)
  const two = resolveConfig({ entry: '/a.ts', runtimes: 2 }, opts)
  assert.equal(two.runtimes, 2)
  assert.equal(two.instances, instancesPerRuntime(2, cores))
  assert.equal(resolveConfig({ entry: '/a.ts', runtimes: 2, instances: 3 }, opts).instances, 3)
  assert.equal(resolveConfig({ entry: '/a.ts' }, opts).runtimes, 1)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { classifyFailure, environmentFor, ladderFor, TWEAKS, type TweakBase } from '../../src/immunity/index.js'

const base: TweakBase = { heapMb: 512, stackMb: 4, leaseMs: 1_000, requestMs: 30_000, heapFactor: 4, stackFactor: 4, timeFactor: 3 }

test('only tweaks that can cure the kind of failure are tried, in the configured order, never twice', () => {
  assert.deepEqual(ladderFor('crash', TWEAKS, []), ['fresh', 'exclusive', 'reorder'])
  assert.deepEqual(ladderFor('crash', ['reorder', 'exclusive'], []), ['reorder', 'exclusive'])
  assert.deepEqual(ladderFor('out-of-memory', TWEAKS, ['fresh']), ['heap'])
  assert.deepEqual(ladderFor('stack', TWEAKS, []), ['stack'])
  assert.deepEqual(ladderFor('stall', TWEAKS, []), ['exclusive'])
  assert.deepEqual(ladderFor('deadline', TWEAKS, []), ['fresh', 'deadline'])
  assert.deepEqual(ladderFor('crash', [], []), [])
})

test('each environment changes what its tweak says, and every rung past fresh runs alone', () => {
  assert.deepEqual(environmentFor('fresh', base), { tweak: 'fresh', exclusive: false, fresh: true, afterNeighbours: false, heapMb: 512, stackMb: 4, leaseMs: 1_000, deadlineMs: 30_000 })
  assert.equal(environmentFor('heap', base).heapMb, 2_048)
  assert.equal(environmentFor('stack', base).stackMb, 16)
  const deadline = environmentFor('deadline', base)
  assert.deepEqual([deadline.deadlineMs, deadline.leaseMs, deadline.exclusive], [90_000, 3_000, true])
  assert.deepEqual([environmentFor('reorder', base).afterNeighbours, environmentFor('reorder', base).exclusive], [true, true])
  assert.equal(environmentFor('bulkhead', base).exclusive, false, 'a bulkheaded route is served as usual, only apart')
})

test('failures are classified from how they were reported and the error', () => {
  assert.equal(classifyFailure('uncaughtException', { name: 'RangeError', message: 'Maximum call stack size exceeded' }), 'stack')
  assert.equal(classifyFailure('uncaughtException', { name: 'TypeError', message: 'x is null' }), 'crash')
  assert.equal(classifyFailure('unhandledRejection', null), 'crash')
  assert.equal(classifyFailure('out-of-memory', null), 'out-of-memory')
  assert.equal(classifyFailure('lease-expired', null), 'stall')
  assert.equal(classifyFailure('deadline', null), 'deadline')
  assert.equal(classifyFailure('never-resolves', null), 'deadline')
  assert.equal(classifyFailure('exit', null), 'exit')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RouteBulkhead } from '../../src/immunity/index.js'

test('enough distinct failing signatures on one route put it apart; repeats of one do not', () => {
  const bulkhead = new RouteBulkhead({ signatures: 3, windowMs: 1_000 }, () => 0)
  assert.equal(bulkhead.active, false)
  assert.equal(bulkhead.recordFailure('GET /search', 'a'), false)
  assert.equal(bulkhead.recordFailure('GET /search', 'a'), false)
  assert.equal(bulkhead.recordFailure('GET /search', 'b'), false)
  assert.equal(bulkhead.isApart('GET /search'), false, 'two distinct signatures are not enough')
  assert.equal(bulkhead.recordFailure('GET /search', 'c'), true)
  assert.equal(bulkhead.recordFailure('GET /search', 'd'), false, 'reported once')
  assert.equal(bulkhead.isApart('GET /search'), true)
  assert.equal(bulkhead.isApart('GET /items'), false, 'other routes are not affected')
})

test('failures age out of the window, and the route comes back when its time is up', () => {
  let now = 0
  const bulkhead = new RouteBulkhead({ signatures: 2, windowMs: 100 }, () => now)
  bulkhead.recordFailure('GET /a', 'x')
  now = 150
  assert.equal(bulkhead.recordFailure('GET /a', 'y'), false, 'x is forgotten')
  assert.equal(bulkhead.recordFailure('GET /a', 'z'), true)
  assert.deepEqual(bulkhead.list(), [{ route: 'GET /a', until: 250 }])
  now = 250
  assert.equal(bulkhead.isApart('GET /a'), false)
  assert.deepEqual(bulkhead.list(), [])
})

test('0 signatures turns the bulkhead off', () => {
  const bulkhead = new RouteBulkhead({ signatures: 0, windowMs: 1_000 })
  for (const s of ['a', 'b', 'c', 'd']) assert.equal(bulkhead.recordFailure('GET /a', s), false)
  assert.equal(bulkhead.active, false)
})

test('a suspicion taken back (its request completed) no longer counts towards the route', () => {
  const bulkhead = new RouteBulkhead({ signatures: 3, windowMs: 1_000 }, () => 0)
  bulkhead.recordFailure('GET /report', 'slow-a')
  bulkhead.recordFailure('GET /report', 'slow-b')
  bulkhead.retract('GET /report', 'slow-a')
  bulkhead.retract('GET /other', 'slow-b')
  assert.equal(bulkhead.recordFailure('GET /report', 'slow-c'), false, 'slow-a was taken back; slow-b is still counted')
  assert.equal(bulkhead.recordFailure('GET /report', 'slow-d'), true)
  bulkhead.retract('GET /report', 'slow-d')
  assert.equal(bulkhead.isApart('GET /report'), true, 'a route already apart stays apart')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isReplayable } from '../../src/dispatch/replayable.js'

const options = { methods: ['GET', 'HEAD', 'PUT', 'DELETE'], idempotencyKeyHeader: 'idempotency-key' }

test('idempotent methods are replayable', () => {
  assert.equal(isReplayable('GET', [], options), true)
  assert.equal(isReplayable('PUT', ['Host', 'x'], options), true)
})

test('POST and PATCH are not, unless they carry an idempotency key (any case)', () => {
  assert.equal(isReplayable('POST', ['Host', 'x'], options), false)
  assert.equal(isReplayable('PATCH', [], options), false)
  assert.equal(isReplayable('POST', ['Host', 'x', 'Idempotency-Key', 'abc'], options), true)
})

test('a header value equal to the key name does not count', () => {
  assert.equal(isReplayable('POST', ['X-Note', 'idempotency-key'], options), false)
})

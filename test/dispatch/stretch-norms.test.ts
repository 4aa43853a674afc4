import assert from 'node:assert/strict'
import { test } from 'node:test'
import { STRETCH_FLOOR_MS, StretchNorms } from '../../src/dispatch/stretch-norms.js'

test('a route never seen running long is held to the floor', () => {
  assert.equal(new StretchNorms(1_000).limitMs('GET /new'), STRETCH_FLOOR_MS)
  assert.equal(new StretchNorms(1_000).limitMs(null), STRETCH_FLOOR_MS)
  assert.equal(new StretchNorms(10_000).limitMs('GET /new'), STRETCH_FLOOR_MS, 'whatever the lease')
  assert.equal(new StretchNorms(80).limitMs('GET /new'), 40, 'half a lease caps even the floor')
})

test('a learned route is abnormal past three times its longest recent stretch, between the floor and half a lease', () => {
  const norms = new StretchNorms(1_000, () => 0)
  norms.record('GET /report', 30)
  assert.equal(norms.limitMs('GET /report'), 90)
  norms.record('GET /report', 10)
  assert.equal(norms.limitMs('GET /report'), 90, 'the longest stretch is kept')
  norms.record('GET /tiny', 5)
  assert.equal(norms.limitMs('GET /tiny'), STRETCH_FLOOR_MS)
  norms.record('GET /heavy', 400)
  assert.equal(norms.limitMs('GET /heavy'), 500)
})

test('a route that runs long on purpose gets a longer lease before its instance is ended', () => {
  const norms = new StretchNorms(1_000, () => 0)
  assert.equal(norms.leaseMs('GET /report'), 1_000)
  norms.record('GET /report', 100)
  assert.equal(norms.leaseMs('GET /report'), 1_000)
  norms.record('GET /report', 300)
  assert.equal(norms.leaseMs('GET /report'), 1_500)
})

test('old long stretches are forgotten: halved every minute', () => {
  let now = 0
  const norms = new StretchNorms(1_000, () => now)
  norms.record('GET /report', 120)
  assert.equal(norms.limitMs('GET /report'), 360)
  now = 60_000
  assert.equal(norms.limitMs('GET /report'), 180)
  norms.record('GET /report', 100)
  assert.equal(norms.limitMs('GET /report'), 300, 'a new stretch longer than the decayed one replaces it')
})

test('at most 1,000 routes are remembered; the least recently seen goes first', () => {
  const norms = new StretchNorms(1_000, () => 0)
  for (let i = 0; i < 1_001; i++) norms.record(`GET /r${i}`, 100)
  assert.equal(norms.limitMs('GET /r0'), STRETCH_FLOOR_MS, 'forgotten')
  assert.equal(norms.limitMs('GET /r1000'), 300)
})

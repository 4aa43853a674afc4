import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ImmunityTable } from '../../src/immunity/index.js'

test('quarantines on the threshold-th failure and reports it once', () => {
  let now = 1_000
  const table = new ImmunityTable({ threshold: 2, quarantineMs: 500 }, () => now)
  assert.equal(table.recordFailure('s', 'crash'), false)
  assert.equal(table.isQuarantined('s'), null)
  assert.equal(table.recordFailure('s', 'lease-expired'), true)
  const entry = table.isQuarantined('s')
  assert.equal(entry?.failures, 2)
  assert.equal(entry?.lastFailure, 'lease-expired')
  assert.equal(entry?.quarantinedUntil, 1_500)
  assert.equal(table.recordFailure('s', 'crash'), false, 'already quarantined')
  now = 1_500
  assert.equal(table.isQuarantined('s'), null, 'the quarantine expires')
  assert.equal(table.size, 0)
})

test('failures are forgotten after the window, so rare ones never add up', () => {
  let now = 0
  const table = new ImmunityTable({ threshold: 2, quarantineMs: 100 }, () => now)
  table.recordFailure('s', 'crash')
  now = 150
  assert.equal(table.recordFailure('s', 'crash'), false)
})

test('release lifts a quarantine; list shows quarantined entries first', () => {
  const table = new ImmunityTable({ threshold: 1, quarantineMs: 10_000 })
  table.recordFailure('a', 'crash')
  const b = new ImmunityTable({ threshold: 2, quarantineMs: 10_000 })
  b.recordFailure('x', 'crash')
  b.recordFailure('y', 'crash')
  b.recordFailure('y', 'crash')
  assert.deepEqual(b.list().map((e) => e.signature), ['y', 'x'])
  assert.ok(table.isQuarantined('a'))
  assert.equal(table.release('a'), true)
  assert.equal(table.isQuarantined('a'), null)
  assert.equal(table.release('a'), false)
})

test('a verdict quarantines at once with its incident; a cure is remembered, expires, and can be dropped', () => {
  let now = 0
  const table = new ImmunityTable({ threshold: 2, quarantineMs: 1_000 }, () => now)
  const entry = table.quarantine('poison', 'crash:uncaughtException', 3, 'inc-1')
  assert.equal(entry.quarantinedUntil, 1_000)
  assert.equal(table.isQuarantined('poison')?.incidentId, 'inc-1')

  table.recordCure('race', 'exclusive', 'crash:uncaughtException')
  assert.equal(table.cureOf('race'), 'exclusive')
  assert.equal(table.isQuarantined('race'), null, 'a cured signature runs')
  now = 999
  assert.equal(table.cureOf('race'), 'exclusive')
  table.dropCure('race')
  assert.equal(table.cureOf('race'), null)
  table.recordCure('race', 'exclusive', 'crash:uncaughtException')
  now = 1_999 + 1
  assert.equal(table.cureOf('race'), null, 'cures expire like quarantines')
})

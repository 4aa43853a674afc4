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

/** A table with small bounds and a clock the test moves, and the signatures its listener heard dropped. */
function bounded(options: { maxEntries: number; maxPerRoute?: number; quarantineMs?: number; threshold?: number }) {
  const clock = { now: 0 }
  const table = new ImmunityTable({ threshold: options.threshold ?? 2, quarantineMs: options.quarantineMs ?? 60_000, ...options }, () => clock.now)
  const heard: string[] = []
  table.onChange((signature) => heard.push(signature))
  const dropped = () => heard.filter((s) => table.get(s) === undefined)
  return { table, clock, heard, dropped }
}

test('a flood of distinct failures cannot evict a quarantine (issue 9)', () => {
  const { table, clock, dropped } = bounded({ maxEntries: 100 })
  table.quarantine('GET /poison #-', 'crash', 3, 'inc-1')
  table.recordCure('GET /race #-', 'exclusive', 'crash')
  for (let v = 0; v < 1_000; v++) {
    clock.now++
    table.recordFailure(`GET /r${v % 7}/x?v=${v} #-`, 'crash')
  }
  assert.equal(table.size, 100)
  assert.equal(table.isQuarantined('GET /poison #-')?.incidentId, 'inc-1', 'the quarantine survived')
  assert.equal(table.cureOf('GET /race #-'), 'exclusive', 'and so did the cure: failure records go first')
  // The failure records kept are the newest ones, and every one dropped was announced.
  assert.ok(table.get('GET /r5/x?v=999 #-'))
  assert.equal(table.get('GET /r0/x?v=0 #-'), undefined)
  assert.equal(new Set(dropped()).size, 902)
})

test('quarantines are evicted only when nothing else is left, oldest quarantine first', () => {
  const { table, heard } = bounded({ maxEntries: 10 })
  for (let i = 0; i < 3; i++) table.recordFailure(`GET /f${i} #-`, 'crash')
  table.recordCure('GET /c0 #-', 'fresh', 'crash')
  for (let i = 0; i < 6; i++) table.quarantine(`GET /q${i} #-`, 'crash', 3, `inc-${i}`)
  assert.equal(table.size, 10)
  heard.length = 0
  const drops: string[] = []
  for (let i = 6; i < 12; i++) {
    table.quarantine(`GET /q${i} #-`, 'crash', 3, `inc-${i}`)
    drops.push(...heard.filter((s) => s !== `GET /q${i} #-`))
    heard.length = 0
  }
  assert.deepEqual(drops, ['GET /f0 #-', 'GET /f1 #-', 'GET /f2 #-', 'GET /c0 #-', 'GET /q0 #-', 'GET /q1 #-'])
  assert.equal(table.size, 10)
  assert.deepEqual(table.list().map((e) => e.signature).sort(), Array.from({ length: 10 }, (_, i) => `GET /q${i + 2} #-`).sort())
})

test('renewing a quarantine makes it the youngest; a new failure never evicts a quarantine', () => {
  const { table, clock } = bounded({ maxEntries: 3 })
  table.quarantine('GET /q0 #-', 'crash', 3, 'inc-0')
  table.quarantine('GET /q1 #-', 'crash', 3, 'inc-1')
  table.quarantine('GET /q2 #-', 'crash', 3, 'inc-2')
  clock.now = 10
  table.quarantine('GET /q0 #-', 'crash', 3, 'inc-0b')
  table.quarantine('GET /q3 #-', 'crash', 3, 'inc-3')
  assert.ok(table.isQuarantined('GET /q0 #-'), 'renewed: no longer the oldest')
  assert.equal(table.isQuarantined('GET /q1 #-'), null, 'the oldest went')
  // A table full of quarantines drops the newcomer's failure record rather than a quarantine.
  assert.equal(table.recordFailure('GET /f #-', 'crash'), false)
  assert.equal(table.size, 3)
  assert.deepEqual(table.list().map((e) => e.signature).sort(), ['GET /q0 #-', 'GET /q2 #-', 'GET /q3 #-'])
})

test('a route keeps at most maxPerRoute signatures that are not quarantined', () => {
  const { table, clock } = bounded({ maxEntries: 1_000, maxPerRoute: 5 })
  table.recordFailure('GET /b?v=0 #-', 'crash')
  table.recordCure('GET /a?cured #-', 'fresh', 'crash')
  table.quarantine('GET /a?poison #-', 'crash', 3, 'inc-1')
  for (let v = 0; v < 50; v++) {
    clock.now++
    table.recordFailure(`GET /a?v=${v} #-`, 'crash')
  }
  const onA = table.list().filter((e) => e.signature.startsWith('GET /a?'))
  assert.deepEqual(onA.filter((e) => e.quarantinedUntil === 0).map((e) => e.signature).sort(), ['GET /a?cured #-', ...[46, 47, 48, 49].map((v) => `GET /a?v=${v} #-`)].sort(), 'its own oldest failure records made room, its cure stayed')
  assert.ok(table.isQuarantined('GET /a?poison #-'), 'quarantines do not count against the route')
  assert.ok(table.get('GET /b?v=0 #-'), 'another route is untouched')
  // The route is method and normalised path: another method is another route.
  table.recordFailure('POST /a?v=0 #-', 'crash')
  assert.ok(table.get('GET /a?v=49 #-') && table.get('POST /a?v=0 #-'))
  // When the route holds only cures besides the newcomer, its oldest cure makes room.
  const cures = bounded({ maxEntries: 100, maxPerRoute: 2 })
  cures.table.recordCure('GET /c?1 #-', 'fresh', 'crash')
  cures.table.recordCure('GET /c?2 #-', 'fresh', 'crash')
  cures.table.recordCure('GET /c?3 #-', 'fresh', 'crash')
  assert.deepEqual(cures.table.list().map((e) => e.signature).sort(), ['GET /c?2 #-', 'GET /c?3 #-'])
})

test('a signature made by a key function is its own route', () => {
  const { table } = bounded({ maxEntries: 100, maxPerRoute: 1 })
  table.recordFailure('tenant-1', 'crash')
  table.recordFailure('tenant-2', 'crash')
  table.recordFailure('GET /users/:id/orders', 'crash')
  assert.equal(table.size, 3)
})

test('a full table drops expired entries first, even a quarantine, and tells no listener of them', () => {
  const { table, clock, heard } = bounded({ maxEntries: 5, quarantineMs: 100 })
  table.quarantine('GET /old-poison #-', 'crash', 3, 'inc-1') // until 100
  table.recordFailure('GET /old #-', 'crash') // remembered until 100
  clock.now = 50
  for (let i = 0; i < 3; i++) table.recordFailure(`GET /f${i} #-`, 'crash') // until 150
  heard.length = 0
  clock.now = 120
  table.recordFailure('GET /new #-', 'crash')
  assert.deepEqual(heard, ['GET /new #-'], 'expired entries are forgotten silently: stores expire them too')
  assert.equal(table.size, 4)
  for (let i = 0; i < 3; i++) assert.ok(table.get(`GET /f${i} #-`), `live failure record f${i} kept`)
  // Once nothing has expired, the oldest live failure record goes.
  table.recordFailure('GET /newer #-', 'crash')
  table.recordFailure('GET /newest #-', 'crash')
  assert.equal(table.get('GET /f0 #-'), undefined)
  assert.equal(table.size, 5)
})

test('expired entries out of order (restored from a store, a dropped cure) still go first', () => {
  const { table, clock } = bounded({ maxEntries: 3, quarantineMs: 100 })
  // Restored in key order, not in expiry order: the second one expires first.
  table.restore({ signature: 'GET /a #-', failures: 1, lastFailure: 'crash', firstFailureAt: 90, quarantinedUntil: 0, cure: null, curedUntil: 0, incidentId: null })
  table.restore({ signature: 'GET /b #-', failures: 3, lastFailure: 'crash', firstFailureAt: 0, quarantinedUntil: 50, cure: null, curedUntil: 0, incidentId: 'inc-b' })
  table.recordCure('GET /c #-', 'fresh', 'crash') // first failure at 0
  clock.now = 60
  table.recordFailure('GET /d #-', 'crash')
  assert.equal(table.get('GET /b #-'), undefined, 'the expired quarantine went')
  assert.ok(table.get('GET /a #-') && table.cureOf('GET /c #-') === 'fresh' && table.get('GET /d #-'))
  // A dropped cure falls back to its failure window, which may be over: it goes before live records.
  table.recordCure('GET /c #-', 'fresh', 'crash') // cured until 160
  clock.now = 150
  table.dropCure('GET /c #-') // its failure window ended at 100
  table.recordFailure('GET /e #-', 'crash')
  assert.deepEqual(table.list().map((e) => e.signature).sort(), ['GET /a #-', 'GET /d #-', 'GET /e #-'])
})

test('a restored table keeps its bounds and its priorities', () => {
  const { table } = bounded({ maxEntries: 2 })
  const entry = (signature: string, quarantinedUntil: number) => ({ signature, failures: 2, lastFailure: 'crash', firstFailureAt: 0, quarantinedUntil, cure: null, curedUntil: 0, incidentId: null })
  table.restore(entry('GET /q #-', 60_000))
  table.restore(entry('GET /f1 #-', 0))
  table.restore(entry('GET /f2 #-', 0))
  assert.deepEqual(table.list().map((e) => e.signature), ['GET /q #-', 'GET /f2 #-'])
})

test('a failure that may not quarantine counts, but only a conclusive one crosses the threshold', () => {
  const table = new ImmunityTable({ threshold: 2, quarantineMs: 60_000 }, () => 0)
  assert.equal(table.recordFailure('GET /spin #-', 'lease-expired', false), false)
  assert.equal(table.recordFailure('GET /spin #-', 'lease-expired', false), false)
  assert.equal(table.isQuarantined('GET /spin #-'), null, 'two stalls on busy serving instances are no verdict')
  assert.equal(table.get('GET /spin #-')?.failures, 2)
  assert.equal(table.recordFailure('GET /spin #-', 'lease-expired (alone)'), true)
  assert.ok(table.isQuarantined('GET /spin #-'))
})

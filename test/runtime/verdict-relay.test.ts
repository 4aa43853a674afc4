/**
 * The verdict relay between the runtimes of one keeper, with two real immunity tables and the
 * messages handed from one to the other as the keeper would (in order, unchanged but `from`).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ImmunityTable } from '../../src/immunity/index.js'
import type { VerdictMessage } from '../../src/keeper/index.js'
import { createLogger } from '../../src/log.js'
import { VerdictRelay } from '../../src/runtime/verdict-relay.js'

/** Two runtimes' tables, each relay's messages delivered to the other. */
function pair(): { a: ImmunityTable; b: ImmunityTable; sent: VerdictMessage[] } {
  const sent: VerdictMessage[] = []
  const a = new ImmunityTable({ threshold: 2, quarantineMs: 60_000 })
  const b = new ImmunityTable({ threshold: 2, quarantineMs: 60_000 })
  const log = createLogger('silent')
  const relays: VerdictRelay[] = []
  relays.push(new VerdictRelay(a, (m) => (sent.push(m), relays[1]!.receive({ ...m, from: 1 })), log))
  relays.push(new VerdictRelay(b, (m) => (sent.push(m), relays[0]!.receive({ ...m, from: 2 })), log))
  return { a, b, sent }
}

test('a quarantine reached in one table is known in the other at once; failure counts are not told', () => {
  const { a, b, sent } = pair()
  assert.equal(a.recordFailure('GET /boom #-', 'crash'), false)
  assert.equal(sent.length, 0, 'a failure below the threshold stays with its runtime')
  assert.equal(b.isQuarantined('GET /boom #-'), null)
  assert.equal(a.recordFailure('GET /boom #-', 'crash'), true)
  assert.deepEqual(sent.map((m) => [m.verdict, m.signature]), [['quarantine', 'GET /boom #-']])
  assert.equal(b.isQuarantined('GET /boom #-')?.quarantinedUntil, a.isQuarantined('GET /boom #-')?.quarantinedUntil)
})

test('cures and releases travel too, and an applied verdict is not relayed back', () => {
  const { a, b, sent } = pair()
  b.quarantine('GET /kill #-', 'exit', 3, 'inc-1')
  assert.equal(a.isQuarantined('GET /kill #-')?.incidentId, 'inc-1')
  a.recordCure('GET /race #-', 'exclusive', 'crash')
  assert.equal(b.cureOf('GET /race #-'), 'exclusive')
  assert.equal(a.release('GET /kill #-'), true)
  assert.equal(b.isQuarantined('GET /kill #-'), null)
  // One message per verdict: none came back from the table that applied it.
  assert.deepEqual(sent.map((m) => m.verdict), ['quarantine', 'cure', 'release'])
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { TapeEntryMessage } from '../../src/protocol.js'
import { StreamedTapes } from '../../src/supervise/streamed-tapes.js'
import { emptyTape, STREAM_LIMITS, type TapeRead } from '../../src/tape.js'

const read: TapeRead = { op: { kind: 'get', keys: ['s:limit'] }, entries: [{ key: 's:limit', value: 'ajQwMA==', version: 3, expiresAt: null }], error: null }

test('entries become the run\'s tape, in order, marked with how its instance ended', () => {
  const tapes = new StreamedTapes()
  const entries: TapeEntryMessage[] = [
    { type: 'tape-entry', id: 9, source: 'read', value: read },
    { type: 'tape-entry', id: 9, source: 'now', value: 1_700_000_000_000 },
    { type: 'tape-entry', id: 9, source: 'random', value: 0.25 },
    { type: 'tape-entry', id: 9, source: 'now', value: 1_700_000_000_001 },
    { type: 'tape-entry', id: 9, source: 'uuid', value: 'c0ffee' },
  ]
  for (const entry of entries) tapes.add(entry)
  assert.deepEqual(tapes.get(9, null), { ...emptyTape(), reads: [read], now: [1_700_000_000_000, 1_700_000_000_001], random: [0.25], uuid: ['c0ffee'], streamed: { ended: null } })
  const all = tapes.takeAll('lease-expired')
  assert.deepEqual(all.get(9)?.streamed, { ended: 'lease-expired' })
  assert.equal(tapes.get(9, null), undefined, 'taken')
})

test('a run that ended in its instance, or starts again, drops its copy', () => {
  const tapes = new StreamedTapes()
  tapes.add({ type: 'tape-entry', id: 1, source: 'now', value: 1 })
  tapes.drop(1)
  assert.equal(tapes.get(1, null), undefined)
})

test('bounded whatever the instance sends: values, the cut mark, and the number of runs kept', () => {
  const tapes = new StreamedTapes()
  for (let i = 0; i < STREAM_LIMITS.values * 3; i++) tapes.add({ type: 'tape-entry', id: 2, source: 'perf', value: i })
  const tape = tapes.get(2, null)!
  assert.equal(tape.perf.length, STREAM_LIMITS.values)
  assert.equal(tape.truncated, true)
  tapes.add({ type: 'tape-entry', id: 3, source: 'cut', value: null })
  assert.equal(tapes.get(3, null)!.truncated, true)
  for (let id = 100; id < 200; id++) tapes.add({ type: 'tape-entry', id, source: 'now', value: id })
  const kept = tapes.takeAll('crash')
  assert.ok(kept.size <= 32, `kept ${kept.size} runs`)
  assert.ok(kept.has(199) && !kept.has(2), 'the oldest went first')
})

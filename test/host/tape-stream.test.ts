import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TapeStream } from '../../src/host/tape-stream.js'
import { STREAM_LIMITS, type TapeEntry, type TapeRead } from '../../src/tape.js'

/** A stream whose posts are collected, as the dispatcher would receive them. */
function collecting(): { stream: TapeStream; posted: [number, TapeEntry][] } {
  const posted: [number, TapeEntry][] = []
  return { stream: new TapeStream((id, entry) => posted.push([id, entry])), posted }
}

const read: TapeRead = { op: { kind: 'get', keys: ['s:limit'] }, entries: [{ key: 's:limit', value: 'ajQwMA==', version: 3, expiresAt: null }], error: null }

test('a loop drawing Date.now() a million times streams the first STREAM_LIMITS.values and one cut', () => {
  const { stream, posted } = collecting()
  for (let i = 0; i < 1_000_000; i++) stream.send(7, { source: 'now', value: i })
  assert.equal(posted.length, STREAM_LIMITS.values + 1)
  assert.deepEqual(posted[STREAM_LIMITS.values - 1], [7, { source: 'now', value: STREAM_LIMITS.values - 1 }])
  assert.deepEqual(posted.at(-1), [7, { source: 'cut', value: null }])
})

test('after a cut no value of any source goes, reads still do; another run has bounds of its own', () => {
  const { stream, posted } = collecting()
  for (let i = 0; i <= STREAM_LIMITS.values; i++) stream.send(1, { source: 'random', value: 0.5 })
  posted.length = 0
  stream.send(1, { source: 'uuid', value: 'x' })
  stream.send(1, { source: 'read', value: read })
  stream.send(2, { source: 'now', value: 1 })
  assert.deepEqual(posted, [
    [1, { source: 'read', value: read }],
    [2, { source: 'now', value: 1 }],
  ])
})

test('random bytes count against the byte bound: the value past it is cut, not sent', () => {
  const { stream, posted } = collecting()
  const big = 'A'.repeat(STREAM_LIMITS.bytes - 10)
  stream.send(3, { source: 'bytes', value: big })
  stream.send(3, { source: 'bytes', value: 'A'.repeat(20) })
  stream.send(3, { source: 'now', value: 1 })
  assert.deepEqual(posted.map(([, e]) => e.source), ['bytes', 'cut'])
})

test("the recorder's cut is said once; a run that starts again streams afresh", () => {
  const { stream, posted } = collecting()
  stream.send(4, { source: 'cut', value: null })
  stream.send(4, { source: 'cut', value: null })
  stream.send(4, { source: 'now', value: 1 })
  stream.end(4)
  stream.send(4, { source: 'now', value: 2 })
  assert.deepEqual(posted, [
    [4, { source: 'cut', value: null }],
    [4, { source: 'now', value: 2 }],
  ])
})

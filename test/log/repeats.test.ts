/** Folding repeated events: the first of a key is logged, the rest counted into one line per interval. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Repeats } from '../../src/log/index.js'

test('the first hit of a signature is logged; the others in the interval come as one line with a count', async () => {
  const repeats = new Repeats(50)
  // The interval's timer is unref'd (it must not keep a stopping runtime alive): this handle
  // keeps the test's event loop up until the summary comes.
  const keepAlive = setInterval(() => {}, 1_000)
  const emitted: Record<string, unknown>[] = []
  let done!: () => void
  const flushed = new Promise<void>((resolve) => (done = resolve))
  const emit = (fields: Record<string, unknown>): void => {
    emitted.push(fields)
    if (emitted.length === 2) done()
  }
  const hit = (signature: string): boolean => repeats.absorb({ event: 'quarantine-hit', signature, requestId: 'r' }, emit)
  assert.equal(hit('GET /a #-'), false)
  assert.equal(hit('GET /b #-'), false)
  for (let i = 0; i < 999; i++) assert.equal(hit('GET /a #-'), true)
  assert.equal(hit('GET /b #-'), true)
  // Other events are never folded.
  assert.equal(repeats.absorb({ event: 'instance-lost', instance: 'i1' }, emit), false)
  assert.equal(repeats.absorb({ event: 'instance-lost', instance: 'i1' }, emit), false)
  await flushed
  clearInterval(keepAlive)
  assert.deepEqual(
    emitted.map((f) => [f.signature, f.count, f.aggregated]),
    [
      ['GET /a #-', 999, true],
      ['GET /b #-', 1, true],
    ],
  )
  // A new interval: the next hit is logged again.
  assert.equal(hit('GET /a #-'), false)
  repeats.flush()
})

test('a summary line is not folded again, and an interval with no repeats says nothing', () => {
  const repeats = new Repeats(60_000)
  const emitted: unknown[] = []
  assert.equal(repeats.absorb({ event: 'quarantine-hit', signature: 's', count: 5, aggregated: true }, () => emitted.push(1)), false)
  assert.equal(repeats.absorb({ event: 'quarantine-hit', signature: 's' }, () => emitted.push(1)), false)
  repeats.flush()
  assert.equal(emitted.length, 0)
})

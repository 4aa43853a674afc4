import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Outbox } from '../../src/outbox.js'

test('batches everything posted in one turn into one send, in order', async () => {
  const sent: number[][] = []
  const outbox = new Outbox<number>((batch) => sent.push(batch))
  outbox.post(1)
  outbox.post(2)
  outbox.post(3)
  assert.deepEqual(sent, [])
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(sent, [[1, 2, 3]])
})

test('flush sends at once and merges transfer lists', () => {
  const calls: { batch: string[]; transfer: ArrayBuffer[] }[] = []
  const outbox = new Outbox<string>((batch, transfer) => calls.push({ batch, transfer }))
  const a = new ArrayBuffer(1)
  const b = new ArrayBuffer(2)
  outbox.post('x', [a])
  outbox.post('y', [b])
  outbox.flush()
  assert.equal(calls.length, 1)
  assert.deepEqual(calls[0]!.batch, ['x', 'y'])
  assert.deepEqual(calls[0]!.transfer, [a, b])
  outbox.flush()
  assert.equal(calls.length, 1, 'an empty flush sends nothing')
})

test('the protocol header packing round-trips', async () => {
  const { packHeaders, unpackHeaders } = await import('../../src/protocol.js')
  const raw = ['Host', 'a', 'Cookie', 'x=1; y=2', 'X-Empty', '']
  assert.deepEqual(unpackHeaders(packHeaders(raw)), raw)
  assert.deepEqual(unpackHeaders(packHeaders([])), [])
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { reportHeap } from '../../src/host/heap-report.js'
import { LEASE_SLOTS, LeaseSlot } from '../../src/protocol.js'

// Real V8 heap, this test's own isolate: what a handler keeps shows in the lease as soon as the
// handler returns, without waiting for a collection's observer (on Node 22 V8 may not collect
// at all while a leak's pretenured objects fill the old generation).
test('heap report: a handler that keeps 200 MiB shows in the lease when it returns', () => {
  const lease = new Int32Array(new SharedArrayBuffer(LEASE_SLOTS * 4))
  const { handlerDone } = reportHeap(lease)
  const before = Atomics.load(lease, LeaseSlot.HeapMb)
  const kept: { i: number; tag: string }[][] = []
  for (let mb = 0; mb < 200; mb++) kept.push(Array.from({ length: 16_384 }, (_, i) => ({ i, tag: 'kept' })))
  handlerDone()
  const after = Atomics.load(lease, LeaseSlot.HeapMb)
  // The young generation (at most 128 MiB, Node 24) is not counted: the rest must show.
  assert.ok(after - before >= 60, `published ${before} MiB, then ${after} MiB with ${kept.length} MiB kept`)
})

test('heap report: a handler that keeps nothing publishes nothing new', () => {
  const lease = new Int32Array(new SharedArrayBuffer(LEASE_SLOTS * 4))
  const { handlerDone } = reportHeap(lease)
  Atomics.store(lease, LeaseSlot.HeapMb, -1)
  handlerDone()
  assert.equal(Atomics.load(lease, LeaseSlot.HeapMb), -1, 'the handler end sampled less than a MiB of growth')
})

test('heap report: the beat samples at most every 50 ms', () => {
  const lease = new Int32Array(new SharedArrayBuffer(LEASE_SLOTS * 4))
  let clock = 1_000
  const heap = reportHeap(lease, () => clock)
  Atomics.store(lease, LeaseSlot.HeapMb, -1)
  clock += 49
  heap.beat()
  assert.equal(Atomics.load(lease, LeaseSlot.HeapMb), -1, 'sampled 49 ms after the last sample')
  clock += 1
  heap.beat()
  assert.ok(Atomics.load(lease, LeaseSlot.HeapMb) >= 0, 'not sampled 50 ms after the last sample')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { memoryDue, rejuvenationDue, type RejuvenationPolicy, type RejuvenationView } from '../../src/supervise/rejuvenation.js'

const policy: RejuvenationPolicy = { heapPercent: 75, maxAgeMs: 0, maxRequests: 0 }
const fresh: RejuvenationView = { heapMb: 40, heapCapMb: 512, externalMb: 2, externalCapMb: 512, readyAt: 0, served: 0 }

const rows: { why: string; instance: Partial<RejuvenationView>; policy?: Partial<RejuvenationPolicy>; now?: number; expect: ReturnType<typeof rejuvenationDue> }[] = [
  { why: 'a small heap, no other bound', instance: {}, expect: null },
  { why: 'just under the mark', instance: { heapMb: 383 }, expect: null },
  { why: 'at the mark (75% of 512)', instance: { heapMb: 384 }, expect: 'heap' },
  { why: 'a configured mark', instance: { heapMb: 300 }, policy: { heapPercent: 50 }, expect: 'heap' },
  { why: 'a tweaked cap counts', instance: { heapMb: 384, heapCapMb: 2048 }, expect: null },
  { why: 'age and request bounds are off by default', instance: { served: 1e9 }, now: 1e12, expect: null },
  { why: 'past maxAgeMs', instance: { readyAt: 1_000 }, policy: { maxAgeMs: 60_000 }, now: 61_000, expect: 'age' },
  { why: 'not yet maxAgeMs', instance: { readyAt: 1_000 }, policy: { maxAgeMs: 60_000 }, now: 60_999, expect: null },
  { why: 'maxRequests reached', instance: { served: 100 }, policy: { maxRequests: 100 }, expect: 'requests' },
  { why: 'the heap comes first', instance: { heapMb: 500, served: 100 }, policy: { maxRequests: 100 }, expect: 'heap' },
  { why: 'external memory just under the mark', instance: { externalMb: 383 }, expect: null },
  { why: 'external memory at the mark (75% of limits.externalMb)', instance: { externalMb: 384 }, expect: 'external' },
  { why: 'external memory with no cap', instance: { externalMb: 5_000, externalCapMb: 0 }, expect: null },
  { why: 'external memory before routine bounds', instance: { externalMb: 400, served: 100 }, policy: { maxRequests: 100 }, expect: 'external' },
  { why: 'the heap before external memory', instance: { heapMb: 400, externalMb: 400 }, expect: 'heap' },
]

for (const row of rows) {
  test(`rejuvenation: ${row.why}`, () => {
    assert.equal(rejuvenationDue({ ...fresh, ...row.instance }, { ...policy, ...row.policy }, row.now ?? 0), row.expect)
  })
}

// What the dispatcher gives no new request to: memory past its mark, never a routine bound.
test('rejuvenation: memoryDue is the heap and external marks alone', () => {
  assert.equal(memoryDue({ ...fresh, heapMb: 384 }, 75), 'heap')
  assert.equal(memoryDue({ ...fresh, externalMb: 384 }, 75), 'external')
  assert.equal(memoryDue({ ...fresh, heapMb: 383, externalMb: 383 }, 75), null)
})

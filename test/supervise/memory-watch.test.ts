import assert from 'node:assert/strict'
import { test } from 'node:test'
import { memoryLimitHit, rssAction, type MemoryPolicy, type MemoryView } from '../../src/supervise/memory-watch.js'

const policy: MemoryPolicy = { heapPercent: 75, externalMb: 512 }
const busy: MemoryView = { heapMb: 40, heapCapMb: 512, externalMb: 2, unreportedMb: 0, inflight: 1, state: 'ready' }

const limitRows: { why: string; view: Partial<MemoryView>; policy?: Partial<MemoryPolicy>; expect: ReturnType<typeof memoryLimitHit> }[] = [
  { why: 'a small instance', view: {}, expect: null },
  { why: 'heap under the hard mark (95% of 512 is 486.4)', view: { heapMb: 486 }, expect: null },
  { why: 'heap at the hard mark', view: { heapMb: 487 }, expect: { limit: 'heap', blameRunning: false } },
  { why: 'the hard mark is 20 points above heapPercent', view: { heapMb: 360 }, policy: { heapPercent: 50 }, expect: { limit: 'heap', blameRunning: false } },
  { why: 'the hard mark is never below heapPercent', view: { heapMb: 500 }, policy: { heapPercent: 99 }, expect: null },
  { why: 'idle: rejuvenation replaces it, nothing is lost', view: { heapMb: 510, externalMb: 5_000, inflight: 0 }, expect: null },
  { why: 'already ending', view: { heapMb: 510, state: 'ending' }, expect: null },
  { why: 'a synchronous stretch grew the process by half the cap: its request is blamed', view: { heapMb: 40, unreportedMb: 256 }, expect: { limit: 'heap', blameRunning: true } },
  { why: 'a stretch grew it less', view: { heapMb: 40, unreportedMb: 255 }, expect: null },
  { why: 'a stretch of a leaking instance: what it published is not counted twice', view: { heapMb: 300, unreportedMb: 20 }, expect: null },
  { why: 'a stretch that took a large heap past the hard mark: blamed', view: { heapMb: 300, unreportedMb: 187 }, expect: { limit: 'heap', blameRunning: true } },
  { why: 'a stretch on a sacrificial instance with a larger heap', view: { heapMb: 40, heapCapMb: 2048, unreportedMb: 900, state: 'leaving' }, expect: null },
  { why: 'external memory under limits.externalMb', view: { externalMb: 511 }, expect: null },
  { why: 'external memory at limits.externalMb', view: { externalMb: 512 }, expect: { limit: 'external', blameRunning: false } },
  { why: 'no external cap', view: { externalMb: 50_000 }, policy: { externalMb: 0 }, expect: null },
  { why: 'the heap is named before external memory', view: { heapMb: 500, externalMb: 900 }, expect: { limit: 'heap', blameRunning: false } },
]

for (const row of limitRows) {
  test(`memory limit: ${row.why}`, () => {
    assert.deepEqual(memoryLimitHit({ ...busy, ...row.view }, { ...policy, ...row.policy }), row.expect)
  })
}

const v = (view: Partial<MemoryView>): MemoryView => ({ ...busy, ...view })

const rssRows: { why: string; views: MemoryView[]; rssMb: number; limitMb: number; expect: ReturnType<typeof rssAction> }[] = [
  { why: 'no limit', views: [v({ externalMb: 9_000 })], rssMb: 10_000, limitMb: 0, expect: null },
  { why: 'under 90%', views: [v({})], rssMb: 1_799, limitMb: 2_000, expect: null },
  { why: 'at 90%: the heaviest is rejuvenated', views: [v({ heapMb: 100 }), v({ externalMb: 600 }), v({ heapMb: 300 })], rssMb: 1_800, limitMb: 2_000, expect: { index: 1, action: 'rejuvenate' } },
  { why: 'growth not yet published counts', views: [v({ heapMb: 300 }), v({ heapMb: 20, unreportedMb: 400 })], rssMb: 1_800, limitMb: 2_000, expect: { index: 1, action: 'rejuvenate' } },
  { why: 'at 90%, the heaviest already leaving: wait for it', views: [v({ externalMb: 600, state: 'leaving' }), v({ heapMb: 300 })], rssMb: 1_850, limitMb: 2_000, expect: null },
  { why: 'at 95%: the heaviest is ended', views: [v({ heapMb: 100 }), v({ externalMb: 600 })], rssMb: 1_900, limitMb: 2_000, expect: { index: 1, action: 'end' } },
  { why: 'at 95%, the heaviest leaving with requests: ended', views: [v({ externalMb: 600, state: 'leaving' })], rssMb: 1_950, limitMb: 2_000, expect: { index: 0, action: 'end' } },
  { why: 'at 95%, the heaviest ready and idle: rejuvenated, it exits at once', views: [v({ externalMb: 600, inflight: 0 })], rssMb: 1_950, limitMb: 2_000, expect: { index: 0, action: 'rejuvenate' } },
  { why: 'at 95%, the heaviest leaving and idle: it is exiting, wait', views: [v({ externalMb: 600, inflight: 0, state: 'leaving' }), v({ heapMb: 300 })], rssMb: 1_950, limitMb: 2_000, expect: null },
  { why: 'one ended and not exited yet: its memory is on its way back', views: [v({ externalMb: 600 }), v({ heapMb: 10, state: 'ending' })], rssMb: 1_990, limitMb: 2_000, expect: null },
  { why: 'no instance at all', views: [], rssMb: 1_990, limitMb: 2_000, expect: null },
]

for (const row of rssRows) {
  test(`rss: ${row.why}`, () => {
    assert.deepEqual(rssAction(row.views, row.rssMb, row.limitMb), row.expect)
  })
}

import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { LeaseSlot } from '../protocol.js'

/**
 * How often external memory is sampled besides after each collection: Buffers and ArrayBuffers
 * live outside the V8 heap, and a request filling them may trigger few collections or none.
 */
const EXTERNAL_SAMPLE_MS = 50

const MIB = 1024 * 1024

/**
 * Publishes the instance's heap in use (MiB) in the lease block after every garbage collection,
 * where the dispatcher reads it without a message: the heap right after a collection is the
 * live heap, nearly, so a leak shows as a floor that keeps rising, while garbage between
 * collections does not count. getHeapStatistics() costs about a µs, once per collection.
 *
 * The same call gives the memory outside the heap (`external_memory`: ArrayBuffers, Buffers,
 * external strings), published in `LeaseSlot.ExternalMb`. In a worker it is the worker's own
 * isolate's, as are `process.memoryUsage().external` and `.arrayBuffers` (checked on Node 20:
 * 300 MiB of Buffers in a worker show there and not in the main thread's figures; only `rss`
 * is the whole process's). `external` already includes `arrayBuffers`, so it is not added.
 * External memory is also sampled on a timer, since filling Buffers need not collect.
 *
 * @example
 * ```ts
 * reportHeap(lease) // from now on lease[LeaseSlot.HeapMb] and [LeaseSlot.ExternalMb] follow the heap
 * ```
 */
export function reportHeap(lease: Int32Array): void {
  const publish = (): void => {
    const stats = getHeapStatistics()
    Atomics.store(lease, LeaseSlot.HeapMb, Math.round(stats.used_heap_size / MIB))
    publishExternal(lease, stats.external_memory)
  }
  publish()
  new PerformanceObserver(publish).observe({ entryTypes: ['gc'] })
  setInterval(() => publishExternal(lease, getHeapStatistics().external_memory), EXTERNAL_SAMPLE_MS).unref()
}

function publishExternal(lease: Int32Array, external: number | undefined): void {
  // `external_memory` is missing from getHeapStatistics() on some 20.x releases.
  const bytes = external ?? process.memoryUsage().external
  Atomics.store(lease, LeaseSlot.ExternalMb, Math.min(0x7fffffff, Math.round(bytes / MIB)))
}

import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { LeaseSlot } from '../protocol.js'

/**
 * Publishes the instance's heap in use (MiB) in the lease block after every garbage collection,
 * where the dispatcher reads it without a message: the heap right after a collection is the
 * live heap, nearly, so a leak shows as a floor that keeps rising, while garbage between
 * collections does not count. getHeapStatistics() costs a few µs, once per collection.
 *
 * @example
 * ```ts
 * reportHeap(lease) // from now on lease[LeaseSlot.HeapMb] follows the heap
 * ```
 */
export function reportHeap(lease: Int32Array): void {
  const publish = (): void => {
    Atomics.store(lease, LeaseSlot.HeapMb, Math.round(getHeapStatistics().used_heap_size / (1024 * 1024)))
  }
  publish()
  new PerformanceObserver(publish).observe({ entryTypes: ['gc'] })
}

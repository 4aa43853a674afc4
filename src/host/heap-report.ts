import { PerformanceObserver, performance } from 'node:perf_hooks'
import { getHeapSpaceStatistics, getHeapStatistics, type HeapInfo } from 'node:v8'
import { LeaseSlot } from '../protocol.js'

/**
 * How often the heap and external memory are sampled besides after each collection and each
 * handler, while the instance beats fast (has work): Buffers and ArrayBuffers live outside the V8
 * heap, and a request filling them (or an async handler growing the heap) may trigger few
 * collections or none. An idle instance is sampled at its (slow) beat instead: a timer of its own
 * every 50 ms was a third of an idle worker's CPU, and spares and a standby's instances idle nearly
 * always.
 */
const SAMPLE_MS = 50

/** How much the heap must have grown since the last sample for a handler's end to sample it. */
const HANDLER_STEP_BYTES = 1024 * 1024

const MIB = 1024 * 1024

/** The young generation: what it holds is mostly the garbage of requests just served. */
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space'])

/**
 * Publishes the instance's heap outside the young generation (MiB) in the lease block, where the
 * dispatcher reads it without a message: after every garbage collection, at the end of every
 * handler's synchronous run that grew the heap by a MiB or more, and at the instance's beat, at
 * most every 50 ms.
 *
 * Why not after collections alone: V8 may grow the old generation by hundreds of MiB without
 * collecting at all. On Node 22 the objects of a leak are soon allocated straight in the old
 * generation (allocation-site pretenuring), so nothing is scavenged and no major collection runs
 * before the old generation's allocation limit: a 512 MiB instance leaking 50 MiB per request
 * was measured going from 316 to 446 MiB in three requests without one collection, its first
 * figure past the 75% mark already 87% of its cap. Why not `used_heap_size` at any moment: the
 * young generation holds the garbage of the requests just served (up to 128 MiB on Node 24 with
 * a 512 MiB cap), which a scavenge frees in a ms. What is outside it is what survived into the
 * old generation: live, plus only the garbage a major collection frees, the same floor the
 * figure after a scavenge gave, without waiting for one; a leak shows as a floor that keeps
 * rising. getHeapStatistics() costs 0.3-0.6 µs, getHeapSpaceStatistics() 0.3-2 µs (Node 20-24):
 * a handler's end pays the first, and the second only when the heap grew by a MiB since.
 *
 * The same call gives the memory outside the heap (`external_memory`: ArrayBuffers, Buffers,
 * external strings), published in `LeaseSlot.ExternalMb`. In a worker it is the worker's own
 * isolate's, as are `process.memoryUsage().external` and `.arrayBuffers` (checked on Node 20:
 * 300 MiB of Buffers in a worker show there and not in the main thread's figures; only `rss`
 * is the whole process's). `external` already includes `arrayBuffers`, so it is not added.
 *
 * Returns what the host calls at the end of each handler's synchronous run and at each beat.
 *
 * @example
 * ```ts
 * const heap = reportHeap(lease) // lease[LeaseSlot.HeapMb] and [LeaseSlot.ExternalMb] follow the heap
 * heap.handlerDone()             // after a handler returns: publishes if the heap grew
 * heap.beat()                    // at the instance's beat: publishes if 50 ms passed since the last
 * ```
 */
export function reportHeap(lease: Int32Array, now: () => number = () => performance.now()): HeapReport {
  let sampledBytes = 0
  let sampledAt = 0
  const publish = (stats: HeapInfo = getHeapStatistics()): void => {
    sampledBytes = stats.used_heap_size
    sampledAt = now()
    Atomics.store(lease, LeaseSlot.HeapMb, Math.round(Math.max(0, stats.used_heap_size - youngBytes()) / MIB))
    publishExternal(lease, stats.external_memory)
  }
  publish()
  new PerformanceObserver(() => publish()).observe({ entryTypes: ['gc'] })
  return {
    handlerDone(): void {
      const stats = getHeapStatistics()
      // Between collections the heap only grows; once a collection shrank it, its observer publishes.
      if (stats.used_heap_size - sampledBytes >= HANDLER_STEP_BYTES) publish(stats)
    },
    beat(): void {
      if (now() - sampledAt >= SAMPLE_MS) publish()
    },
  }
}

/** What the host calls to keep the published heap current (see reportHeap). */
export interface HeapReport {
  /** At the end of a handler's synchronous run: publishes if the heap grew by a MiB since. */
  handlerDone(): void
  /** At the instance's beat: publishes if the last sample is 50 ms old or more. */
  beat(): void
}

function youngBytes(): number {
  let bytes = 0
  for (const space of getHeapSpaceStatistics()) if (YOUNG_SPACES.has(space.space_name)) bytes += space.space_used_size
  return bytes
}

function publishExternal(lease: Int32Array, external: number | undefined): void {
  // `external_memory` is missing from getHeapStatistics() on some 20.x releases.
  const bytes = external ?? process.memoryUsage().external
  Atomics.store(lease, LeaseSlot.ExternalMb, Math.min(0x7fffffff, Math.round(bytes / MIB)))
}

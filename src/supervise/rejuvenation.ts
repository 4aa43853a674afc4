/** Why an instance is replaced before it fails (`rss` is the RSS watch's choice, see memory-watch.ts). */
export type RejuvenationReason = 'heap' | 'external' | 'age' | 'requests' | 'rss'

/** What the decision reads of an instance. */
export interface RejuvenationView {
  /** Heap outside the young generation, as last published (host/heap-report.ts), MiB. */
  readonly heapMb: number
  /** Its heap cap (`limits.heapMb`, or a tweak's), MiB. */
  readonly heapCapMb: number
  /** Its memory outside the V8 heap (Buffers, ArrayBuffers), as last published, MiB. */
  readonly externalMb: number
  /** Its cap on that memory (`limits.externalMb`), MiB; 0: none. */
  readonly externalCapMb: number
  /** When it became ready (performance.now() ms). */
  readonly readyAt: number
  /** Requests it has been given. */
  readonly served: number
}

/** `rejuvenate` of the config. */
export interface RejuvenationPolicy {
  readonly heapPercent: number
  readonly maxAgeMs: number
  readonly maxRequests: number
}

/**
 * Whether an instance is due for proactive rejuvenation, and why: its heap past the high-water
 * mark (urgent: a leak heading for V8's limit, which may abort the whole process), its memory
 * outside the heap past the same share of `limits.externalMb` (urgent too: it counts against the
 * process's memory, which the kernel may end whole), or its age or request count past their
 * bounds (routine, off unless configured). Null when it is not due.
 *
 * @example
 * ```ts
 * rejuvenationDue({ heapMb: 400, heapCapMb: 512, externalMb: 0, externalCapMb: 512, readyAt: 0, served: 10 }, { heapPercent: 75, maxAgeMs: 0, maxRequests: 0 }, 1_000) // 'heap'
 * ```
 */
export function rejuvenationDue(instance: RejuvenationView, policy: RejuvenationPolicy, now: number): RejuvenationReason | null {
  const memory = memoryDue(instance, policy.heapPercent)
  if (memory) return memory
  if (policy.maxAgeMs > 0 && now - instance.readyAt >= policy.maxAgeMs) return 'age'
  if (policy.maxRequests > 0 && instance.served >= policy.maxRequests) return 'requests'
  return null
}

/**
 * The urgent half of `rejuvenationDue`: its heap, or its memory outside the heap, past the mark.
 * The dispatcher also gives such an instance a new request before the next tick rejuvenates it
 * only when no other instance can take it:
 * a leaking handler called back to back (the client sends the next request as soon as it has the
 * answer) would otherwise run again there first, one more step towards the hard mark.
 *
 * @example
 * ```ts
 * memoryDue({ heapMb: 400, heapCapMb: 512, externalMb: 0, externalCapMb: 512 }, 75) // 'heap'
 * ```
 */
export function memoryDue(instance: Pick<RejuvenationView, 'heapMb' | 'heapCapMb' | 'externalMb' | 'externalCapMb'>, heapPercent: number): 'heap' | 'external' | null {
  if (instance.heapMb * 100 >= instance.heapCapMb * heapPercent) return 'heap'
  if (instance.externalCapMb > 0 && instance.externalMb * 100 >= instance.externalCapMb * heapPercent) return 'external'
  return null
}

/**
 * The `rejuvenated` log line's fields: why, the heap before, how long the swap took.
 *
 * @example
 * ```ts
 * log.info(rejuvenationLine(instance, 'heap', 400, 900, 60_000, 0.02), 'instance i3 rejuvenated (heap)')
 * ```
 */
export function rejuvenationLine(instance: RejuvenationView & { readonly id: string; readonly inflight: ReadonlySet<number> }, why: RejuvenationReason, heapMb: number, rssMb: number, ageMs: number, swapMs: number): Record<string, unknown> {
  return { event: 'rejuvenated', instance: instance.id, why, heapMb, heapCapMb: instance.heapCapMb, externalMb: instance.externalMb, rssMb, ageMs: Math.round(ageMs), served: instance.served, inflight: instance.inflight.size, swapMs: Number(swapMs.toFixed(3)) }
}

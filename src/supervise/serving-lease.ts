import type { Instance } from './instance.js'

/** The share of its lease a serving instance's still stretch must have had in CPU time to be ended. */
const SERVING_CPU_SHARE = 0.5

/**
 * True when a serving (or draining) instance is stuck: its beat stood still past `leaseMs` plus
 * its heap's GC allowance, with half of that in CPU time, or three times that whatever the CPU
 * (a thread blocked in a system call uses none; see Instance.isLeaseExpired).
 *
 * Why CPU time: a thread waiting for a core is not stuck. By the wall clock alone, a route's first,
 * JIT-cold requests were ended at 1 s while a standby runtime starting beside them took the cores
 * (bench:busy, 200 ms route, 150 connections: 2 instances lost), and a rejuvenated instance
 * draining its 400 MiB heap was ended by its own collections. The requests waiting in a stuck
 * instance moved when it was suspected, so only the running one waits meanwhile; a wrong kill
 * costs an instance, never a verdict, which only a stall alone on a sacrificial instance gives.
 *
 * @example
 * ```ts
 * if (isServingLeaseExpired(instance, now, 1_000)) instance.kill('lease-expired')
 * ```
 */
export function isServingLeaseExpired(instance: Instance, now: number, leaseMs: number): boolean {
  return instance.isLeaseExpired(now, leaseMs + gcAllowanceMs(instance.heapMb), SERVING_CPU_SHARE)
}

/**
 * How much longer than its lease a serving instance may stand still because of its heap's size,
 * in ms: 2 ms per MiB of heap outside the young generation (host/heap-report.ts).
 *
 * Why: a full (mark-compact) collection stops the instance's thread, and its pause grows with the
 * live heap: marking millions of small objects is the slow case. Measured on 2 shared cores
 * (Node 24, 32 benign clients, issue 15's leak at ~400 MiB of small objects): a pause long enough
 * to pass a 1 s lease in 1 of 5 runs, which ended the instance as stuck and blamed the request
 * whose allocation started the collection. A collection is progress, not a hang; an instance
 * with a small heap (the usual tens of MiB) gets tens of ms more, and a loop in a 400 MiB one is
 * still ended within 1.8 s. Sacrificial instances keep their plain lease: their verdicts count
 * CPU time, and a poison that fills the heap is ended by the memory watch first.
 *
 * @example
 * ```ts
 * gcAllowanceMs(400) // 800
 * ```
 */
export function gcAllowanceMs(heapMb: number): number {
  return heapMb > 0 ? heapMb * MS_PER_MIB : 0
}

const MS_PER_MIB = 2

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

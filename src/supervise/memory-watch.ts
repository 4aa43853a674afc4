/**
 * When memory ends an instance from outside, and which one: the hard marks of the memory watch,
 * as pure functions of what the instances published and the process's RSS. Rejuvenation (the
 * soft marks, loss-free) is in rejuvenation.ts; the pool only applies what these return.
 */

/** What ends an instance: its heap, its memory outside the heap, or the whole process's RSS. */
export type MemoryLimit = 'heap' | 'external' | 'rss'

/** What the memory watch reads of an instance. */
export interface MemoryView {
  /** Heap outside the young generation, as last published (host/heap-report.ts), MiB. */
  readonly heapMb: number
  /** Its heap cap (`limits.heapMb`, or a tweak's), MiB. */
  readonly heapCapMb: number
  /** Its memory outside the V8 heap (Buffers, ArrayBuffers), as last published, MiB. */
  readonly externalMb: number
  /**
   * While its beat stands still (its event loop runs one stretch of code, so it publishes
   * nothing): how much the process's RSS grew since the stretch began, MiB; else 0. What it
   * published is stale by up to that much.
   */
  readonly unreportedMb: number
  /** Requests it holds. */
  readonly inflight: number
  /**
   * `ready`: serving, may be rejuvenated; `leaving`: taking no new work (tainted, draining,
   * sacrificial), its memory freed only when it exits; `ending`: terminated, not exited yet.
   */
  readonly state: 'ready' | 'leaving' | 'ending'
}

/** Limits of the watch, from the config. */
export interface MemoryPolicy {
  /** `rejuvenate.heapPercent`: the soft mark; the hard heap mark is 20 points above (at most 95). */
  readonly heapPercent: number
  /** `limits.externalMb`; 0: no cap. */
  readonly externalMb: number
}

/**
 * A stretch of synchronous code that grew the process by half its instance's heap cap is ended:
 * an array grown by copying (push() in a loop) needs its old and new storage at once, so from
 * half the cap its next growth can fail, and there V8 aborts the whole process
 * (nodejs/node#65019) instead of ending the worker.
 */
export const STRETCH_PERCENT = 50

/** The share of the RSS limit at which the heaviest instance is rejuvenated, then ended. */
export const RSS_SOFT_PERCENT = 90
export const RSS_HARD_PERCENT = 95

/** The hard heap mark, in percent of the cap: never below the soft mark. */
export function hardHeapPercent(heapPercent: number): number {
  return Math.max(heapPercent, Math.min(95, heapPercent + 20))
}

/**
 * Whether an instance must be ended now for its own memory, and for what. Only an instance
 * running requests is ended: idle, it cannot grow, and rejuvenation replaces it losing nothing.
 * Growth inside one synchronous stretch (`unreportedMb`) counts against the heap, since V8 may
 * be filling it; when it decides, the request running the stretch is the one to blame.
 *
 * @example
 * ```ts
 * memoryLimitHit({ heapMb: 40, heapCapMb: 512, externalMb: 600, unreportedMb: 0, inflight: 1, state: 'ready' }, { heapPercent: 75, externalMb: 512 })
 * // { limit: 'external', blameRunning: false }
 * ```
 */
export function memoryLimitHit(view: MemoryView, policy: MemoryPolicy): { limit: MemoryLimit; blameRunning: boolean } | null {
  if (view.inflight === 0 || view.state === 'ending') return null
  if (view.heapMb * 100 >= view.heapCapMb * hardHeapPercent(policy.heapPercent)) return { limit: 'heap', blameRunning: false }
  if (view.unreportedMb > 0) {
    // What it published plus what the stretch grew the process by: past the hard mark as above;
    // or the stretch alone past STRETCH_PERCENT, however small the heap was before it.
    const stretch = view.unreportedMb * 100 >= view.heapCapMb * STRETCH_PERCENT
    if (stretch || (view.heapMb + view.unreportedMb) * 100 >= view.heapCapMb * hardHeapPercent(policy.heapPercent)) return { limit: 'heap', blameRunning: true }
  }
  if (policy.externalMb > 0 && view.externalMb >= policy.externalMb) return { limit: 'external', blameRunning: false }
  return null
}

/**
 * What to do about the process's RSS (`rssMb`) against its limit (`limitMb`, 0: none): from
 * `RSS_SOFT_PERCENT` the instance holding the most memory (heap, external, and growth it has
 * not published yet) is rejuvenated; from `RSS_HARD_PERCENT` it is ended if it still runs
 * requests (idle, rejuvenation frees its memory as soon). One at a time: while
 * an ended instance has not exited, its memory is on its way back, so nothing more is done.
 * Returns the index of the instance in `views` and the action, or null.
 *
 * @example
 * ```ts
 * rssAction([{ heapMb: 100, heapCapMb: 512, externalMb: 900, unreportedMb: 0, inflight: 2, state: 'ready' }], 1_900, 2_000)
 * // { index: 0, action: 'end' }
 * ```
 */
export function rssAction(views: readonly MemoryView[], rssMb: number, limitMb: number): { index: number; action: 'rejuvenate' | 'end' } | null {
  if (limitMb <= 0 || rssMb * 100 < limitMb * RSS_SOFT_PERCENT) return null
  if (views.some((v) => v.state === 'ending')) return null
  let index = -1
  for (const [i, view] of views.entries()) {
    if (index < 0 || held(view) > held(views[index]!)) index = i
  }
  if (index < 0) return null
  const heaviest = views[index]!
  if (heaviest.state === 'ready') return { index, action: rssMb * 100 >= limitMb * RSS_HARD_PERCENT && heaviest.inflight > 0 ? 'end' : 'rejuvenate' }
  // One already leaving frees its memory as its requests finish: it is ended only past the hard
  // mark while it still holds some (idle, it is exiting anyway).
  return rssMb * 100 >= limitMb * RSS_HARD_PERCENT && heaviest.inflight > 0 ? { index, action: 'end' } : null
}

function held(view: MemoryView): number {
  return view.heapMb + view.externalMb + view.unreportedMb
}

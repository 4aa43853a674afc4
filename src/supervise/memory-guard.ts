import type { SerializedError } from '../protocol.js'
import type { Instance } from './instance.js'
import { hardHeapPercent, memoryLimitHit, rssAction, STRETCH_PERCENT, type MemoryLimit, type MemoryPolicy, type MemoryView } from './memory-watch.js'
import { rssLimitMb } from './rss-limit.js'

const MIB = 1024 * 1024

/**
 * A stretch's own thread faults in at least 40% of what it grows the heap by (the rest is faulted
 * by V8's helper threads): growth is charged to it when its faults reach a quarter of it.
 */
const OWN_SHARE = 4

/** What the pool must do about memory on this tick. */
export type MemoryStep = { instance: Instance; do: 'end'; error: SerializedError; blameRunning: boolean } | { instance: Instance; do: 'rejuvenate' }

/**
 * The memory watch's mechanism: samples the process's RSS on every supervisor tick (about 9 µs),
 * keeps what it was when each instance's beat began to stand still, and turns instances into the
 * views memory-watch.ts decides on. An instance running one long synchronous stretch publishes
 * nothing (its event loop runs none of our code), so the RSS growth since the stretch began is
 * charged to it, provided its own thread faulted in a share of it (see threadFaultsMb): on
 * Node 20 nothing else from outside sees a worker's heap while it allocates.
 *
 * @example
 * ```ts
 * const guard = new MemoryGuard({ heapPercent: 75, externalMb: 512 }, 0)
 * guard.sample()
 * const step = guard.check(instance, 'ready') // null, or { do: 'end', error, blameRunning }
 * ```
 */
export class MemoryGuard {
  /** The RSS limit in force (cgroup or `limits.rssMb`), MiB; 0: none. */
  readonly rssLimitMb: number
  private rssMb = 0
  /** What child-process instances held at the last RSS check, MiB (isolation: 'process'). */
  private childrenRssMb = 0
  private previousRssMb = 0
  /**
   * Per still instance: RSS (MiB) when its stretch began, as of the tick before it was seen still,
   * and its thread's page faults (MiB) when it was first seen still (null: unknown).
   */
  private readonly stillFrom = new Map<Instance, { rssMb: number; faultsMb: number | null }>()

  constructor(
    private readonly policy: MemoryPolicy,
    configuredRssMb: number,
    private readonly readRssMb: () => number = () => process.memoryUsage.rss() / MIB,
  ) {
    this.rssLimitMb = rssLimitMb(configuredRssMb)
  }

  /** Reads the process's RSS; once per tick, before the instances are checked. */
  sample(): void {
    this.previousRssMb = this.rssMb
    this.rssMb = this.readRssMb()
  }

  /** What the watch sees of `instance` now (call after its `observe` for this tick). */
  view(instance: Instance, state: MemoryView['state'], now: number): MemoryView {
    let unreportedMb = 0
    if (instance.stillMs(now) > 0) {
      // A child process's own RSS is its growth alone (read from /proc, ~5 µs, only while still).
      const own = instance.ownRssMb()
      // The stretch began after the last tick its beat moved on: that tick's RSS is the base.
      let from = this.stillFrom.get(instance)
      if (!from) this.stillFrom.set(instance, (from = own !== null ? { rssMb: own, faultsMb: null } : { rssMb: this.previousRssMb || this.rssMb, faultsMb: instance.faultsMb() }))
      const grown = Math.max(0, Math.round((own ?? this.rssMb) - from.rssMb))
      // The process grows for others too (spares starting, other instances): the growth is this
      // stretch's only if its own thread faulted in a share of it. A loop that allocates nothing
      // faults nothing, and must not be taken for a heap bomb.
      const faulted = from.faultsMb === null ? null : (instance.faultsMb() ?? from.faultsMb) - from.faultsMb
      unreportedMb = faulted === null || faulted * OWN_SHARE >= grown ? grown : 0
    } else {
      this.stillFrom.delete(instance)
    }
    return { heapMb: instance.heapMb, heapCapMb: instance.heapCapMb, externalMb: instance.externalMb, unreportedMb, inflight: instance.inflight.size, state: instance.ending ? 'ending' : state }
  }

  /** Whether `instance` must be ended now for its own memory, with the error its loss reports. */
  check(instance: Instance, state: MemoryView['state'], now: number): MemoryStep | null {
    const view = this.view(instance, state, now)
    const hit = memoryLimitHit(view, this.policy)
    if (!hit) return null
    return { instance, do: 'end', error: this.describe(hit.limit, view, hit.blameRunning), blameRunning: hit.blameRunning }
  }

  /** What to do about the process's RSS, given every live instance and its state. */
  checkRss(instances: readonly { instance: Instance; state: MemoryView['state'] }[], now: number): MemoryStep | null {
    if (this.rssLimitMb <= 0) return null
    const views = instances.map(({ instance, state }) => this.view(instance, state, now))
    // Child-process instances are outside this process's RSS, not outside the container's limit.
    let children = 0
    for (const { instance } of instances) children += instance.ownRssMb() ?? 0
    this.childrenRssMb = children
    const step = rssAction(views, this.rssMb + children, this.rssLimitMb)
    if (!step) return null
    const instance = instances[step.index]!.instance
    return step.action === 'end' ? { instance, do: 'end', error: this.describe('rss', views[step.index]!, false), blameRunning: false } : { instance, do: 'rejuvenate' }
  }

  /** The RSS sampled last, MiB (for logs), with its child-process instances' when it has some. */
  get rss(): number {
    return Math.round(this.rssMb + this.childrenRssMb)
  }

  /** Forgets an instance that died. */
  forget(instance: Instance): void {
    this.stillFrom.delete(instance)
  }

  private describe(limit: MemoryLimit, view: MemoryView, blameRunning: boolean): SerializedError {
    const stack = undefined
    switch (limit) {
      case 'heap':
        return blameRunning
          ? { name: 'Error', message: `heap at ${view.heapMb} MiB, and the process grew ${view.unreportedMb} MiB in one synchronous stretch (${STRETCH_PERCENT}% of its ${view.heapCapMb} MiB cap): ended before V8's own limit`, code: 'CRASHLESS_ERR_HEAP_LIMIT', stack }
          : { name: 'Error', message: `heap at ${view.heapMb} MiB, past ${hardHeapPercent(this.policy.heapPercent)}% of its ${view.heapCapMb} MiB cap: ended before V8's own limit`, code: 'CRASHLESS_ERR_HEAP_LIMIT', stack }
      case 'external':
        return { name: 'Error', message: `${view.externalMb} MiB outside the V8 heap (Buffers, ArrayBuffers), past limits.externalMb (${this.policy.externalMb} MiB)`, code: 'CRASHLESS_ERR_EXTERNAL_LIMIT', stack }
      case 'rss':
        return { name: 'Error', message: `the process's RSS reached ${this.rss} MiB of its ${this.rssLimitMb} MiB limit; this instance held the most (${view.heapMb} MiB heap, ${view.externalMb} MiB external)`, code: 'CRASHLESS_ERR_RSS_LIMIT', stack }
    }
  }
}

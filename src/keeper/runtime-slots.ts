import type { PromoteMessage } from './keeper-protocol.js'
import type { RuntimeProcess } from './runtime-process.js'

/** One of the `runtimes` places the keeper keeps served. */
export interface Slot {
  /** 0 for the first; the runtime serving it is told `index + 1` (its `runtime` label). */
  readonly index: number
  active: RuntimeProcess | null
  /** Started to become its active runtime when ready: the first, a replacement with no standby ready, a reload. */
  next: { runtime: RuntimeProcess; reason: PromoteMessage['reason'] } | null
}

/**
 * The keeper's slots: which runtime serves each, and which is starting to take it. Only
 * bookkeeping; what to do about an empty or outdated slot is the keeper's decision.
 *
 * @example
 * ```ts
 * const slots = new RuntimeSlots()
 * for (const slot of slots.missing(2)) slot.next = { runtime: start(), reason: 'start' }
 * slots.actives() // the active runtimes, lowest slot first
 * ```
 */
export class RuntimeSlots {
  private list: Slot[] = []

  /** The active runtimes, lowest slot first. */
  actives(): RuntimeProcess[] {
    return this.list.flatMap((s) => (s.active?.state === 'active' ? [s.active] : []))
  }

  /** The slot `runtime` serves. */
  of(runtime: RuntimeProcess): Slot | undefined {
    return this.list.find((s) => s.active === runtime)
  }

  /** The slot `runtime` was started to take. */
  awaiting(runtime: RuntimeProcess): Slot | undefined {
    return this.list.find((s) => s.next?.runtime === runtime)
  }

  /** Whether a runtime is starting to take a slot. */
  get starting(): boolean {
    return this.list.some((s) => s.next !== null)
  }

  /** The slots below `count` (made as needed) with neither an active runtime nor one starting. */
  missing(count: number): Slot[] {
    while (this.list.length < count) this.list.push({ index: this.list.length, active: null, next: null })
    return this.list.filter((s) => s.index < count && !s.active && !s.next)
  }

  /** The lowest slot below `count` whose runtime is older than `generation`, with none starting for it. */
  outdated(count: number, generation: number): Slot | undefined {
    return this.list.find((s) => s.index < count && !s.next && s.active !== null && s.active.generation < generation)
  }

  /** Removes the slots from `count` on, and returns them. */
  cut(count: number): Slot[] {
    const excess = this.list.slice(count)
    this.list = this.list.slice(0, count)
    return excess
  }
}

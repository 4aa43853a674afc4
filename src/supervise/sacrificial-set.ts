import type { Instance } from './instance.js'

/** The limits of an instance, and the key instances with equal limits share. */
export interface InstanceShape {
  heapMb: number
  stackMb: number
  leaseMs: number
}

/** What a run on a sacrificial instance needs. */
export interface SacrificialNeed {
  shape: InstanceShape
  /** Alone on the instance. */
  exclusive: boolean
  /** On an instance that has never served a request (or that only this group's runs have). */
  fresh: boolean
  group?: string | undefined
  /** At the lowest CPU priority (runs of a route under attack, see Instance.yieldCpu). */
  yields?: boolean
}

/** An idle sacrificial instance is let go after this long: they are for episodes, not for keeps. */
const IDLE_MS = 10_000

/**
 * Sacrificial instances (DESIGN.md level 2): where failed requests are re-run under tweaks,
 * suspects are isolated and bulkheaded routes are served, so none of that ever shares an
 * instance with ordinary traffic. Bounded in number; started on demand (the pool's warm spare is
 * taken when its limits fit, which makes the first re-run a swap rather than a cold start) and
 * let go when idle.
 */
export class SacrificialSet {
  private readonly instances: Instance[] = []
  /** A failed start pauses growth for a second, so an app that cannot start is not respawned in a loop. */
  private pausedUntil = 0

  constructor(
    private readonly max: number,
    private readonly concurrency: number,
    private readonly start: (shape: InstanceShape) => Instance,
    /** An instance of exactly this shape that never served, ready or still starting, or null. */
    private readonly takeSpare: (shape: string) => Instance | null,
    /** Capacity appeared: waiting runs may be placed. */
    private readonly onCapacity: () => void,
    /** Lets an instance go (it finishes and exits). */
    private readonly drain: (instance: Instance) => void,
    /** Sacrificial instances let go that are still alive. */
    private readonly lingering: () => number = () => 0,
    /** Whether its instances record each request's tape for incidents (`incidents.record`). */
    private readonly record: boolean = true,
  ) {}

  /** Every sacrificial instance, starting or ready. */
  get all(): readonly Instance[] {
    return this.instances
  }

  has(instance: Instance): boolean {
    return this.instances.includes(instance)
  }

  /**
   * A ready instance meeting `need`, or null; in that case one is started (or freed) when the
   * bound allows, and `onCapacity` is called once it is ready.
   */
  pick(need: SacrificialNeed): Instance | null {
    const shape = shapeKey(need.shape)
    let best: Instance | null = null
    for (const instance of this.instances) {
      if (instance.state !== 'ready' || instance.shape !== shape || !this.fits(instance, need)) continue
      // A group's runs go to the group's instance first: they are meant to run side by side
      // there, and a copy sent elsewhere could cost its signature another instance.
      if (need.group !== undefined && instance.group === need.group && best?.group !== need.group) best = instance
      else if (!best || (instance.inflight.size < best.inflight.size && (need.group === undefined || best.group !== need.group))) best = instance
    }
    if (best) return best
    // A group keeps to its one instance: its runs wait there for room rather than each costing
    // their signature another instance.
    if (need.group !== undefined && this.instances.some((i) => i.group === need.group)) return null
    this.grow(need, shape)
    return null
  }

  /** Forgets an instance (lost, tainted or retired); true when it was one of these. */
  remove(instance: Instance): boolean {
    const index = this.instances.indexOf(instance)
    if (index < 0) return false
    this.instances.splice(index, 1)
    return true
  }

  /** Lets go of instances idle for a while; they are drained, not killed. */
  reap(now: number): void {
    for (const instance of [...this.instances]) {
      if (instance.state === 'ready' && instance.inflight.size === 0 && now - instance.idleSince > IDLE_MS) {
        this.remove(instance)
        this.drain(instance)
      }
    }
  }

  private fits(instance: Instance, need: SacrificialNeed): boolean {
    if (instance.yields !== (need.yields ?? false)) return false
    if (need.fresh && instance.served > 0 && (need.group === undefined || instance.group !== need.group)) return false
    if (need.exclusive) return instance.inflight.size === 0
    return !instance.exclusive && instance.inflight.size < this.concurrency
  }

  private grow(need: SacrificialNeed, shape: string): void {
    // One start at a time per shape: a burst of waiting runs must not start a worker each.
    const yields = need.yields ?? false
    if (this.instances.some((i) => i.state === 'starting' && i.shape === shape && i.yields === yields)) return
    if (performance.now() < this.pausedUntil) return
    // Sacrificial instances let go but not gone yet (draining, perhaps still in a loop until their
    // lease ends) count too: under a flood of poison, threads and memory stay bounded.
    if (this.instances.length + this.lingering() >= this.max) {
      const idle = this.instances.find((i) => i.state === 'ready' && i.inflight.size === 0 && (i.shape !== shape || i.yields !== yields || (need.fresh && i.served > 0)))
      if (!idle) return
      this.remove(idle)
      this.drain(idle)
    }
    const spare = this.takeSpare(shape)
    const instance = spare ?? this.start(need.shape)
    instance.role = 'sacrificial'
    // Recording costs the re-runs a little, and serving instances nothing (src/host/tape-recorder.ts).
    if (this.record) {
      instance.post({ type: 'record' })
      instance.recording = true
    }
    // It tells a request that can never finish from a slow one (src/host/quiet-watch.ts).
    instance.post({ type: 'watch-quiet' })
    if (need.yields) instance.yieldCpu()
    this.instances.push(instance)
    if (spare?.state === 'ready') return void queueMicrotask(this.onCapacity)
    instance.ready.then(
      () => this.onCapacity(),
      () => {
        this.remove(instance)
        this.pausedUntil = performance.now() + 1_000
        setTimeout(this.onCapacity, 1_000).unref()
      },
    )
  }
}

/** The key of a shape, as `Instance.shape` spells it. */
export function shapeKey(shape: InstanceShape): string {
  return `${shape.heapMb}/${shape.stackMb}/${shape.leaseMs}`
}

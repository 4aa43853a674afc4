/**
 * The environment tweaks of the recovery ladder (Rx, DESIGN.md level 2): what a failed request
 * is re-run under, cheapest first, and which tweaks can possibly cure which kind of failure.
 */

/** One rung of the ladder. */
export type Tweak = 'fresh' | 'exclusive' | 'heap' | 'stack' | 'deadline' | 'reorder'

/** Every tweak, in the default order (cheapest first). */
export const TWEAKS: readonly Tweak[] = ['fresh', 'exclusive', 'heap', 'stack', 'deadline', 'reorder']

/** How a request failed, as far as choosing a tweak goes. */
export type FailureKind = 'crash' | 'stack' | 'exit' | 'out-of-memory' | 'stall' | 'deadline'

/**
 * Which tweaks can cure which failure. Running the others would only spend instances (each
 * failed rung costs one, and a signature may cost at most `immunity.maxCrashes`):
 * - an exception or exit may come from state left by earlier requests (fresh) or from
 *   interleaving with concurrent ones (exclusive, reorder);
 * - a stack overflow from a deep but finite recursion needs a larger stack (an infinite one
 *   needs a fix, so nothing else is tried);
 * - heap exhaustion from a leak needs a fresh heap, from one big request a larger one;
 * - a stalled event loop is confirmed or cleared by one run alone under the same lease (a
 *   loaded machine can stretch a busy handler; a loop stalls again): the lease is the user's
 *   statement of how long a synchronous stretch may last, so nothing lengthens it;
 * - a missed deadline from a deadlock on instance state needs a fresh instance, from slow
 *   work a longer deadline.
 */
const CURES: Readonly<Record<FailureKind, readonly Tweak[]>> = {
  crash: ['fresh', 'exclusive', 'reorder'],
  exit: ['fresh', 'exclusive', 'reorder'],
  stack: ['stack'],
  'out-of-memory': ['fresh', 'heap'],
  stall: ['exclusive'],
  deadline: ['fresh', 'deadline'],
}

/**
 * The rungs to try for a failure of `kind`, in the configured order, leaving out those already
 * tried for this request.
 *
 * @example
 * ```ts
 * ladderFor('out-of-memory', TWEAKS, []) // ['fresh', 'heap']
 * ```
 */
export function ladderFor(kind: FailureKind, order: readonly Tweak[], tried: readonly Tweak[]): Tweak[] {
  return order.filter((tweak) => CURES[kind].includes(tweak) && !tried.includes(tweak))
}

/**
 * What the tweak changes about where and how a request runs. Every tweaked run happens on a
 * sacrificial instance, which never carries ordinary traffic, so nothing a tweaked run does
 * can hurt a benign request.
 */
export interface Environment {
  /**
   * The tweak this is (`isolate`: an unattributed failure's suspect run alone; `bulkhead`: a
   * route under attack run apart; `apart`: a route run apart while one of its requests is
   * suspected of stalling an instance).
   */
  readonly tweak: Tweak | 'isolate' | 'bulkhead' | 'apart'
  /** Alone on its instance: nothing else runs there meanwhile. */
  readonly exclusive: boolean
  /** On an instance that has never served a request. */
  readonly fresh: boolean
  /** Waits until the requests it ran beside have finished (a different order). */
  readonly afterNeighbours: boolean
  readonly heapMb: number
  readonly stackMb: number
  readonly leaseMs: number
  readonly deadlineMs: number
  /**
   * Runs of one `fresh` rung share this: the first takes a never-used instance, the others
   * join it there, so they run beside each other as they would normally.
   */
  readonly group?: string
}

/** The ordinary limits, and how much the heap, stack and time tweaks multiply them. */
export interface TweakBase {
  heapMb: number
  stackMb: number
  leaseMs: number
  requestMs: number
  heapFactor: number
  stackFactor: number
  timeFactor: number
}

/**
 * The environment of a tweak. Every rung past `fresh` runs alone, so one failure cannot hide
 * behind another request.
 *
 * @example
 * ```ts
 * environmentFor('stack', base).stackMb // base.stackMb * base.stackFactor
 * ```
 */
export function environmentFor(tweak: Environment['tweak'], base: TweakBase): Environment {
  const env: Environment = {
    tweak,
    exclusive: tweak !== 'fresh' && tweak !== 'bulkhead' && tweak !== 'apart',
    fresh: tweak === 'fresh',
    afterNeighbours: tweak === 'reorder',
    heapMb: tweak === 'heap' ? base.heapMb * base.heapFactor : base.heapMb,
    stackMb: tweak === 'stack' ? base.stackMb * base.stackFactor : base.stackMb,
    // A longer deadline is no use if the lease kills a long synchronous stretch first.
    leaseMs: tweak === 'deadline' ? base.leaseMs * base.timeFactor : base.leaseMs,
    deadlineMs: tweak === 'deadline' ? base.requestMs * base.timeFactor : base.requestMs,
  }
  return env
}

/** Instances are shared by environments with the same limits. */
export function shapeOf(env: Pick<Environment, 'heapMb' | 'stackMb' | 'leaseMs'>): string {
  return `${env.heapMb}/${env.stackMb}/${env.leaseMs}`
}

/**
 * How a run fails whose sacrificial instance showed that nothing it waits for is pending
 * (src/host/quiet-watch.ts): a missed deadline that no longer deadline could cure.
 */
export const NEVER_RESOLVES = 'never-resolves'

/**
 * Classifies a failure from how the instance reported it (a loss reason or a suppressed crash
 * kind) and the error, if any.
 *
 * @example
 * ```ts
 * classifyFailure('uncaughtException', { name: 'RangeError', message: 'Maximum call stack size exceeded' }) // 'stack'
 * ```
 */
export function classifyFailure(how: string, error?: { name?: string; message?: string } | null): FailureKind {
  if (error?.name === 'RangeError' && /call stack/i.test(error.message ?? '')) return 'stack'
  switch (how.replace(/^crash:/, '')) {
    case 'out-of-memory':
      return 'out-of-memory'
    case 'lease-expired':
      return 'stall'
    case 'deadline':
    case NEVER_RESOLVES:
      return 'deadline'
    case 'exit':
    case 'process.exit':
      return 'exit'
    default:
      return 'crash'
  }
}

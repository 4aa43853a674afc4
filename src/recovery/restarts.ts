/**
 * Recursive recovery (Microreboot; DESIGN.md ladder levels 3 and 4) as a decision without I/O:
 * which level acts on an instance lost with nobody to blame. The levels are OTP supervisors,
 * each with a restart intensity (more than `intensity` restarts within `periodMs`): the instance
 * is swapped for its spare (level 3, done by the pool whatever this says); a component whose
 * instances keep failing past its intensity is rebooted whole; a group whose components keep
 * being rebooted past its intensity, or whose components' instances fail together within its
 * window, is rebooted whole; and past the runtime's intensity on those reboots, the keeper swaps
 * in its standby runtime (level 4).
 */

/** OTP's restart intensity: at most `intensity` restarts within `periodMs`. */
export interface Intensity {
  readonly intensity: number
  readonly periodMs: number
}

/** Losses that say nothing about the component: the instance was ended on purpose, or at start. */
const EXPLAINED: ReadonlySet<string> = new Set(['retired', 'start-failed', 'drain-timeout'])

/**
 * Whether a lost instance counts against restart intensity: a serving one (not being drained),
 * lost with no request to blame (a crash outside any request, a native fault, a lease expired
 * while nothing ran). A request that is blamed goes up the recovery ladder and is quarantined
 * there; an instance ended on purpose (retired, drained) says nothing.
 *
 * @example
 * ```ts
 * isUnexplainedLoss({ reason: 'crash', culprit: null, error, fatal: null, exitCode: 1 }, true) // true
 * ```
 */
export function isUnexplainedLoss(loss: { readonly reason: string; readonly culprit: number | null }, serving: boolean): boolean {
  return serving && loss.culprit === null && !EXPLAINED.has(loss.reason)
}

/** Restarts at `times` within the period ending at `now`. */
function within(times: readonly number[], now: number, periodMs: number): number {
  let n = 0
  for (const at of times) if (now - at < periodMs) n++
  return n
}

/** What the decision knows when an instance of a component was lost with nobody to blame. */
export interface RestartFacts {
  readonly now: number
  readonly component: {
    readonly name: string
    readonly policy: Intensity
    /** Times of its unexplained instance losses since its last reboot, this one included. */
    readonly failures: readonly number[]
    /** This loss, as the log says it (`crash Error: …`). */
    readonly last?: string
  }
  /** Its group, if it has one. */
  readonly group: {
    readonly name: string
    readonly policy: Intensity & { readonly windowMs: number }
    /** Times its components were rebooted (by it) since the group's last reboot. */
    readonly reboots: readonly number[]
    /** Unexplained instance losses of its components since its last reboot, this one included. */
    readonly failures: readonly { readonly component: string; readonly at: number }[]
  } | null
  readonly runtime: {
    readonly policy: Intensity
    /** Times of reboots of groups, and of components in no group, since the runtime started. */
    readonly reboots: readonly number[]
  }
}

/** The level that acts, and why (the `why` of its log line). */
export type RestartAction =
  | { readonly level: 'instance' }
  | { readonly level: 'component'; readonly why: string }
  | { readonly level: 'group'; readonly why: string }
  | { readonly level: 'runtime'; readonly why: string }

/**
 * The level that acts on this loss. The instance's swap is already done; a higher level acts
 * when the one below has restarted more than its intensity allows.
 *
 * @example
 * ```ts
 * decideRestart({ now: 5, component: { name: 'bids', policy: { intensity: 1, periodMs: 60_000 }, failures: [1, 5] }, group: null, runtime: { policy, reboots: [] } })
 * // { level: 'component', why: 'more than 1 instances of bids lost with no request to blame within 60000 ms' }
 * ```
 */
export function decideRestart(facts: RestartFacts): RestartAction {
  const { now, component, group, runtime } = facts
  let wanted: RestartAction = { level: 'instance' }
  if (group !== null) {
    const together = new Set(group.failures.filter((f) => now - f.at < group.policy.windowMs).map((f) => f.component))
    if (together.size >= 2) wanted = { level: 'group', why: `instances of ${[...together].sort().join(', ')} (group ${group.name}) failed together within ${group.policy.windowMs} ms` }
  }
  if (wanted.level === 'instance' && within(component.failures, now, component.policy.periodMs) > component.policy.intensity) {
    wanted = { level: 'component', why: `more than ${component.policy.intensity} instances of ${component.name} lost with no request to blame within ${component.policy.periodMs} ms${component.last === undefined ? '' : `; last: ${component.last}`}` }
    if (group !== null && within(group.reboots, now, group.policy.periodMs) + 1 > group.policy.intensity) {
      wanted = { level: 'group', why: `more than ${group.policy.intensity} reboots of group ${group.name}'s components within ${group.policy.periodMs} ms; last: ${wanted.why}` }
    }
  }
  if (wanted.level === 'instance') return wanted
  // A component in a group is rebooted by its group, which counts it; the runtime counts what
  // it reboots itself: groups, and components in none.
  if (wanted.level === 'component' && group !== null) return wanted
  if (within(runtime.reboots, now, runtime.policy.periodMs) + 1 > runtime.policy.intensity) {
    return { level: 'runtime', why: `more than ${runtime.policy.intensity} reboots of components and groups within ${runtime.policy.periodMs} ms (recovery.runtimeIntensity); last: ${wanted.why}` }
  }
  return wanted
}

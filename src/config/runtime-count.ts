/**
 * How many runtime processes `runtimes` means on this machine, and the instances each gets when
 * `instances` is left out. Pure functions of the core count, so the sizing rules of the README
 * ("Sizing") are checked as rows in test/config/runtime-count.test.ts.
 */

/** Most runtimes one keeper runs: each is a process with its own instances and a store connection. */
export const MAX_RUNTIMES = 64

/**
 * The runtime count: a number as given; `'auto'` is half the cores (at least 1). Measured on a
 * 2-core machine (bench:overhead, README "Sizing"): a runtime whose dispatcher thread is saturated
 * by trivial requests keeps about as much CPU busy again in its instances and V8's helper threads,
 * so two cores per runtime; heavier routes need more instance cores per runtime, never fewer.
 *
 * @example
 * ```ts
 * runtimeCount('auto', 2)  // 1
 * runtimeCount('auto', 32) // 16
 * runtimeCount(3, 32)      // 3
 * ```
 */
export function runtimeCount(runtimes: number | 'auto', cores: number): number {
  if (runtimes !== 'auto') return runtimes
  return Math.min(MAX_RUNTIMES, Math.max(1, Math.floor(cores / 2)))
}

/**
 * Instances per runtime when `instances` is not set: with one runtime, one per core (PM2
 * cluster mode's count); with several, the cores shared among them, at least one each, so that
 * `runtimes: 'auto'` on 32 cores runs 16 x 2 instances, not 16 x 32.
 *
 * @example
 * ```ts
 * instancesPerRuntime(1, 8) // 8
 * instancesPerRuntime(4, 8) // 2
 * instancesPerRuntime(3, 2) // 1
 * ```
 */
export function instancesPerRuntime(runtimes: number, cores: number): number {
  return Math.max(1, Math.round(cores / runtimes))
}

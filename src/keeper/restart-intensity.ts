/** OTP's restart intensity: at most `intensity` restarts within `periodMs`. */
export interface IntensityPolicy {
  readonly intensity: number
  readonly periodMs: number
}

/**
 * Whether restarts at `times` (ms, any clock, ascending or not) exceed the policy at `now`:
 * more than `intensity` of them within the last `periodMs`. Like an OTP supervisor, the keeper
 * then stops and lets the level above (systemd, Kubernetes, a human) decide, instead of
 * restarting in a loop. A burst passes; a sustained rate does not.
 * https://www.erlang.org/doc/system/sup_princ.html#maximum-restart-intensity
 *
 * @example
 * ```ts
 * isIntensityExceeded([0, 10, 20], 30, { intensity: 2, periodMs: 1_000 }) // true: 3 within a second
 * isIntensityExceeded([0, 10, 20], 5_000, { intensity: 2, periodMs: 1_000 }) // false: all too old
 * ```
 */
export function isIntensityExceeded(times: readonly number[], now: number, policy: IntensityPolicy): boolean {
  let recent = 0
  for (const at of times) if (now - at < policy.periodMs) recent++
  return recent > policy.intensity
}

/**
 * Drops restart times that can no longer count (older than the period), so a keeper that runs
 * for months keeps a bounded list.
 *
 * @example
 * ```ts
 * forgetOldRestarts([0, 900, 1_500], 2_000, { intensity: 5, periodMs: 1_000 }) // [1_500]
 * ```
 */
export function forgetOldRestarts(times: readonly number[], now: number, policy: IntensityPolicy): number[] {
  return times.filter((at) => now - at < policy.periodMs)
}

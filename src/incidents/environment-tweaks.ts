import { isNoiseVariable } from './env-vars.js'
import type { Fingerprint } from './fingerprint.js'
import { REDACTED } from './redact.js'

/** One change to the replay's environment that brings it closer to the incident's. */
export interface EnvTweak {
  /** What a report names: `env.PAYMENTS_STRICT`, `timeZone`. */
  name: string
  /** The variable set (a string) or removed (null). */
  variable: string
  value: string | null
}

/**
 * The differences between the incident's environment and this one that a replay can take
 * back: its environment variables (set or removed as they were there; never a redacted one,
 * nor the shell's own) and its time zone (as `TZ`). What cannot be changed per process (Node's
 * version, the kernel, the dependencies installed) is left to `crashless env diff`.
 *
 * @example
 * ```ts
 * environmentTweaks(incident.environment, fingerprint(appDir, null))
 * // [{ name: 'env.PAYMENTS_STRICT', variable: 'PAYMENTS_STRICT', value: '1' }]
 * ```
 */
export function environmentTweaks(there: Fingerprint, here: Fingerprint): EnvTweak[] {
  const tweaks: EnvTweak[] = []
  const theirs = there.env ?? {}
  const ours = here.env ?? {}
  // Without a record of the variables there, absence says nothing: only what differs is set.
  const recorded = there.env !== undefined
  for (const name of new Set([...Object.keys(theirs), ...Object.keys(ours)])) {
    if (isNoiseVariable(name) || name.startsWith('CRASHLESS_')) continue
    const value = theirs[name]
    if (value === ours[name] || value === REDACTED || value?.includes(REDACTED) || value?.includes('… (')) continue
    if (value === undefined && !recorded) continue
    tweaks.push({ name: `env.${name}`, variable: name, value: value ?? null })
  }
  if (there.timeZone !== here.timeZone && theirs.TZ === undefined) tweaks.push({ name: 'timeZone', variable: 'TZ', value: there.timeZone })
  return tweaks.sort((a, b) => a.name.localeCompare(b.name))
}

/** The variables to pass a replay for a set of tweaks. */
export function envOf(tweaks: readonly EnvTweak[]): Record<string, string | null> {
  return Object.fromEntries(tweaks.map((t) => [t.variable, t.value]))
}

/**
 * Bad answers as a failure signal (DESIGN.md "Failure detection"), decided without I/O: is an
 * instance whose answers are 5xx an outlier among its siblings, to be ejected (swapped for its
 * spare, like a crashed one)? In the spirit of Envoy's outlier detection: `consecutive_5xx`, and a
 * rate far above the siblings'. Both spare an app whose every instance answers 5xx (a 503 for
 * maintenance, a database down): the instance is not what is wrong, and rebooting it cures nothing.
 * Ejections are bounded (`intensity` in `periodMs`) and never escalate.
 */

/** What is known of one instance's answers, and of its siblings' (the component's other serving instances). */
export interface AnswerFacts {
  /** Its answers of 500 or more in a row, up to the one just seen. */
  readonly consecutive: number
  /** Its answers, and those of 500 or more, within the window. */
  readonly total: number
  readonly failed: number
  /** The siblings' answers within the window, pooled; null when it has no sibling. */
  readonly siblings: { readonly total: number; readonly failed: number } | null
  /** Ejections in the component within the bound's period, this one not included. */
  readonly recentEjections: number
}

/** `outliers` of the config. */
export interface OutlierPolicy {
  readonly consecutive5xx: number
  readonly minRequests: number
  readonly ratePercent: number
  readonly rateFactor: number
  readonly intensity: number
}

/** The verdict on an instance that just answered 5xx. */
export type OutlierVerdict =
  | { readonly do: 'eject'; readonly rule: 'consecutive' | 'rate' }
  | { readonly do: 'stay'; readonly why: 'within bounds' | 'siblings fail too' | 'ejections spent' }

/** Siblings answering this share of 5xx or more fail too: it is the app, not the instance. */
const SIBLINGS_FAILING = 0.5

/**
 * Whether the instance is an outlier to eject, and by which rule; or why it stays.
 *
 * @example
 * ```ts
 * decideOutlier({ consecutive: 5, total: 9, failed: 5, siblings: { total: 40, failed: 0 }, recentEjections: 0 }, policy) // { do: 'eject', rule: 'consecutive' }
 * decideOutlier({ consecutive: 5, total: 9, failed: 5, siblings: { total: 40, failed: 40 }, recentEjections: 0 }, policy) // { do: 'stay', why: 'siblings fail too' }
 * ```
 */
export function decideOutlier(facts: AnswerFacts, policy: OutlierPolicy): OutlierVerdict {
  const siblingsRate = facts.siblings === null || facts.siblings.total === 0 ? null : facts.siblings.failed / facts.siblings.total
  const rule = breaks(facts, siblingsRate, policy)
  if (rule === null) return { do: 'stay', why: 'within bounds' }
  if (siblingsRate !== null && siblingsRate >= SIBLINGS_FAILING) return { do: 'stay', why: 'siblings fail too' }
  if (facts.recentEjections >= policy.intensity) return { do: 'stay', why: 'ejections spent' }
  return { do: 'eject', rule }
}

function breaks(facts: AnswerFacts, siblingsRate: number | null, policy: OutlierPolicy): 'consecutive' | 'rate' | null {
  if (policy.consecutive5xx > 0 && facts.consecutive >= policy.consecutive5xx) return 'consecutive'
  // A rate needs siblings to compare with, and enough answers to mean something.
  if (policy.minRequests === 0 || siblingsRate === null || facts.total < policy.minRequests) return null
  const rate = facts.failed / facts.total
  if (rate * 100 < policy.ratePercent) return null
  return rate >= siblingsRate * policy.rateFactor ? 'rate' : null
}

/** The health checks of one instance and its siblings. */
export interface HealthFacts {
  /** Its failed checks in a row, the one just seen included. */
  readonly failures: number
  /** Its siblings' last checks: how many passed, of how many. */
  readonly siblingsPassing: number
  readonly siblings: number
  readonly recentEjections: number
}

/**
 * Whether an instance failing its health check is ejected: after `failures` in a row, when a
 * sibling passes (or it has none), within the bound on ejections.
 *
 * @example
 * ```ts
 * decideHealth({ failures: 2, siblingsPassing: 1, siblings: 1, recentEjections: 0 }, { failures: 2, intensity: 3 }) // { do: 'eject', rule: 'health' }
 * ```
 */
export function decideHealth(facts: HealthFacts, policy: { readonly failures: number; readonly intensity: number }): { readonly do: 'eject'; readonly rule: 'health' } | { readonly do: 'stay'; readonly why: 'within bounds' | 'siblings fail too' | 'ejections spent' } {
  if (facts.failures < policy.failures) return { do: 'stay', why: 'within bounds' }
  if (facts.siblings > 0 && facts.siblingsPassing === 0) return { do: 'stay', why: 'siblings fail too' }
  if (facts.recentEjections >= policy.intensity) return { do: 'stay', why: 'ejections spent' }
  return { do: 'eject', rule: 'health' }
}

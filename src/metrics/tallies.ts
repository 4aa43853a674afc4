/**
 * What the runtime counts as it happens, as plain numbers: the events below are rare (a crash, a
 * quarantine, a rejuvenation), and each is counted where it is already logged, with one integer
 * increment. prom-client reads them only when `/metrics` is scraped (see registry.ts), so
 * nothing here costs a label lookup or an allocation when the event happens.
 *
 * One set per process, like prom-client's default registry: a runtime is one process, and the
 * dispatcher, supervisor and ladder that count into it are spread over rooms that do not share
 * a constructor.
 */

/** Keys of a labelled tally are bounded: every caller passes one of a fixed set of names. */
export type LabelledTally = Map<string, number>

/**
 * A labelled tally with its known keys at 0, so each series exists from the first scrape:
 * Prometheus's `rate()` and `increase()` miss the first event of a series born with it.
 */
function known(...keys: string[]): LabelledTally {
  return new Map(keys.map((key) => [key, 0]))
}

/** The runtime's event counts since it started. */
export const tallies = {
  /** Requests whose crash was suppressed in their instance (ladder level 0). */
  suppressed: 0,
  /** Requests re-served on another instance after theirs was lost (ladder level 1). */
  reserved: 0,
  /** Requests isolated after their instance was lost with nobody blamed (ladder level 2). */
  isolated: 0,
  /** Re-runs under a tweaked environment, by tweak (ladder level 2). */
  reruns: known('fresh', 'exclusive', 'heap', 'stack', 'deadline', 'reorder'),
  /** Signatures cured by a tweak. */
  cures: 0,
  /** Signatures quarantined, by what decided it: `ladder`, `threshold` or `runtime-deaths`. */
  quarantines: known('ladder', 'threshold', 'runtime-deaths', 'corrupter'),
  /** Requests refused without running because their signature is quarantined. */
  quarantineHits: 0,
  /** Instances lost, by reason (`crash`, `out-of-memory`, `lease-expired`, …), each replaced (level 3). */
  instancesLost: known('crash', 'exit', 'out-of-memory', 'lease-expired', 'start-failed', 'drain-timeout'),
  /** Instances replaced before they failed, by why (`heap`, `external`, `rss`, `age`, `requests`). */
  rejuvenations: known('heap', 'external', 'rss', 'age', 'requests'),
  /** Requests past their deadline. */
  deadlines: 0,
  /** Times the runtime asked its keeper to be replaced by the standby (level 3 escalating to 4). */
  escalations: 0,
  /** Instances swapped for a spare for their answers, by rule: `consecutive`, `rate` (5xx outliers), `health`. */
  ejections: known('consecutive', 'rate', 'health'),
  /** Components rebooted whole, by level: `component` (its instances kept failing), `group` (with its group). */
  reboots: known('component', 'group'),
}

/**
 * Adds one to `key` of a labelled tally.
 *
 * @example
 * ```ts
 * bump(tallies.rejuvenations, 'heap')
 * ```
 */
export function bump(tally: LabelledTally, key: string): void {
  tally.set(key, (tally.get(key) ?? 0) + 1)
}

/**
 * Folds repeated log events into one line per key per interval. A quarantined signature
 * under load is refused thousands of times a second (150,000 `quarantine-hit` lines in 15 s
 * once, 23 MB of stdout): the first of each key in an interval is logged as it happens, with
 * its request id; the others are counted, and when the interval ends one line with the same
 * event says how many more there were (`count`, `aggregated: true`). Counts for metrics are
 * kept elsewhere (src/metrics/tallies.ts) and stay exact.
 */

/**
 * Events folded, and the field that tells their repeats apart: each can come once per request
 * of a flood (refused by a quarantine, shed from a route under attack).
 */
export const REPEATED_EVENTS: Readonly<Record<string, string>> = {
  'quarantine-hit': 'signature',
  shed: 'url',
}

/** How long one interval lasts, ms. */
export const REPEAT_INTERVAL_MS = 5_000
/** Keys counted in one interval at most; past it, repeats of new keys are counted under one key. */
const MAX_KEYS = 1_000
const OVERFLOW = '(other keys)'

interface Pending {
  /** Emits the interval's summary with the logger and level of the first occurrence. */
  emit: (fields: Record<string, unknown>, msg: string) => void
  fields: Record<string, unknown>
  count: number
}

/**
 * @example
 * ```ts
 * const repeats = new Repeats()
 * if (repeats.absorb(fields, (f, msg) => log.info(f, msg))) return // counted, not logged now
 * ```
 */
export class Repeats {
  private pending = new Map<string, Pending>()
  private seen = new Set<string>()
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly intervalMs = REPEAT_INTERVAL_MS) {}

  /**
   * True when `fields` is a repeat within the current interval (the caller drops it); false
   * when it should be logged now (not a folded event, or the first of its key).
   */
  absorb(fields: Record<string, unknown>, emit: Pending['emit']): boolean {
    const event = fields.event
    if (typeof event !== 'string' || fields.aggregated === true) return false
    const keyField = REPEATED_EVENTS[event]
    if (keyField === undefined) return false
    let key = `${event}\n${String(fields[keyField])}`
    if (!this.seen.has(key)) {
      if (this.seen.size < MAX_KEYS) {
        this.seen.add(key)
        this.timer ??= setTimeout(() => this.flush(), this.intervalMs).unref()
        return false
      }
      key = `${event}\n${OVERFLOW}`
    }
    const known = this.pending.get(key)
    if (known) known.count++
    else this.pending.set(key, { emit, count: 1, fields: { event, [keyField]: key.endsWith(OVERFLOW) ? OVERFLOW : fields[keyField] } })
    return true
  }

  /** Logs one line per key repeated in the interval, and starts a new interval. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    const pending = this.pending
    this.pending = new Map()
    this.seen = new Set()
    for (const { emit, fields, count } of pending.values()) {
      emit({ ...fields, count, aggregated: true, windowMs: this.intervalMs }, `${count} more like this in the last ${this.intervalMs / 1000} s`)
    }
  }
}

/**
 * The runtime's recent recoveries and rejuvenations, for the dashboard's timeline: a bounded
 * ring of the log events that say what failed and what was done. It is fed from the logger
 * (see src/log.ts), so every place that already logs such an event appears here with no code
 * of its own, and the event names are the log's (`instance-lost`, `rejuvenated`, `cured`, …).
 *
 * One ring per process, like the tallies: the events are rare, and a dashboard reads the ring
 * at most twice a second. What is kept is copied and bounded (scalar fields only, strings cut),
 * since signatures and URLs in these events come from clients.
 */

/** One event of the timeline. */
export interface TimelineEvent {
  /** Sequence number, increasing: a client knows which events it has already shown. */
  seq: number
  /** Epoch ms. */
  at: number
  event: string
  /** pino's level number: 30 info, 40 warn, 50 error. */
  level: number
  msg: string
  /** The event's scalar fields (instance, reason, why, signature, tweak, …), strings cut to {@link MAX_TEXT}. */
  fields: Record<string, string | number | boolean>
}

/** Log events that are recoveries, rejuvenations or verdicts (DESIGN.md, the recovery ladder). */
export const TIMELINE_EVENTS: ReadonlySet<string> = new Set([
  'listening',
  'request-crashed',
  'deadline',
  'never-resolves',
  'instance-lost',
  'rejuvenated',
  'memory-limit',
  'evacuated',
  'suspect',
  'culprit',
  'ladder-step',
  'cured',
  'cleared',
  'quarantined',
  'bulkhead',
  'escalate',
  'death-suspects',
  'gave-up',
  // Component recoveries (src/components): an instance swapped for its answers or health, a
  // component or group rebooted whole, a dropped 5xx re-served, the search for a corrupter.
  'ejected',
  'ejections-spent',
  'reboot',
  'answer-reserved',
  'corrupter-search',
  'corrupter-search-done',
])

const CAPACITY = 200
const MAX_TEXT = 200
const MAX_FIELDS = 16

const ring: TimelineEvent[] = []
let seq = 0

/**
 * Keeps `fields` if its `event` is one of {@link TIMELINE_EVENTS}; a no-op for any other log call.
 *
 * @example
 * ```ts
 * observe(40, { event: 'instance-lost', instance: 'i1', reason: 'crash' }, 'instance i1 lost (crash); replaced')
 * observe(40, { event: 'ejected', instance: 'bids/i2', rule: 'rate' }, 'ejected', () => ({ component: 'bids' }))
 * ```
 *
 * `bindings` gives the logger's own (a child logger's `component`), read only for a kept event
 * (pino's `bindings()` parses them): only `component` is kept.
 */
export function observe(level: number, fields: Record<string, unknown>, msg: string | undefined, bindings?: () => Record<string, unknown>): void {
  const event = fields.event
  if (typeof event !== 'string' || !TIMELINE_EVENTS.has(event)) return
  const kept: Record<string, string | number | boolean> = {}
  let count = 0
  // A child logger's bindings (a component's `component`) first: the event's own fields win.
  const component = bindings?.().component
  if (typeof component === 'string' && fields.component === undefined) {
    kept.component = cut(component)
    count++
  }
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'event' || count >= MAX_FIELDS) continue
    const scalar = scalarOf(value)
    if (scalar === undefined) continue
    kept[key] = scalar
    count++
  }
  ring.push({ seq: ++seq, at: Date.now(), event, level, msg: cut(msg ?? ''), fields: kept })
  if (ring.length > CAPACITY) ring.shift()
}

/**
 * The last `limit` events, oldest first.
 *
 * @example
 * ```ts
 * recentEvents(50).at(-1)?.event // 'rejuvenated'
 * ```
 */
export function recentEvents(limit: number): TimelineEvent[] {
  return ring.slice(-limit)
}

/** A value as the timeline keeps it: scalars, an error's message; nothing else. */
function scalarOf(value: unknown): string | number | boolean | undefined {
  if (typeof value === 'string') return cut(value)
  if (typeof value === 'number' || typeof value === 'boolean') return value
  if (value !== null && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') return cut((value as { message: string }).message)
  return undefined
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text
}

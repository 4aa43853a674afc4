import type { ServerResponse } from 'node:http'
import { FixedHistogram, REQUEST_SECONDS, STORE_SECONDS } from './fixed-histogram.js'

/**
 * One component's request counts: responses by status class and their latencies. Each
 * dispatcher holds its component's meter from its construction, so counting a request is an
 * array increment by an index computed from the status, with no lookup by name.
 */
export interface RequestMeter {
  /** The component's name (the `component` label). */
  readonly component: string
  /**
   * Responses by status class, counted once per request when its response closes. Index 0
   * holds requests whose response never completed (the client left, or a started response was
   * cut); 1 to 5 the status classes 1xx to 5xx.
   */
  readonly responses: number[]
  /** Time from a request's arrival to its response's end (or its client leaving), seconds. */
  readonly seconds: FixedHistogram
}

/**
 * Every component's meter, by name, in the order they were first asked for. Bounded: names come
 * from the config's `components` (plus `default`), known when the runtime starts. One set per
 * process, like the tallies.
 */
export const requestMeters = new Map<string, RequestMeter>()

/**
 * Requests refused by a quarantine, from the dispatcher's first sight of them to the refusal
 * written: DESIGN.md's "rejected in under 1 ms" as a distribution, not one sample.
 */
export const refusalSeconds = new FixedHistogram(STORE_SECONDS)

/** Store reads and commits, as the dispatcher sees them (round trip to the backend), seconds. */
export const storeSeconds = { read: new FixedHistogram(STORE_SECONDS), commit: new FixedHistogram(STORE_SECONDS) }

/**
 * The meter of `component`, made on first use: called once per dispatcher, never per request.
 *
 * @example
 * ```ts
 * const meter = requestMeter('bids')
 * res.on('close', () => recordResponse(meter, res, job.receivedAt))
 * ```
 */
export function requestMeter(component: string): RequestMeter {
  let meter = requestMeters.get(component)
  if (meter === undefined) {
    meter = { component, responses: [0, 0, 0, 0, 0, 0], seconds: new FixedHistogram(REQUEST_SECONDS) }
    requestMeters.set(component, meter)
  }
  return meter
}

/**
 * Counts one finished request into its component's meter: its status class and its latency.
 * The one per-request metrics call: a few integer operations and a clock read (measured ~50 ns
 * with the clock read: .scratch microbenchmark, 5M calls, loop baseline subtracted).
 *
 * @example
 * ```ts
 * res.on('close', () => recordResponse(meter, res, job.receivedAt))
 * ```
 */
export function recordResponse(meter: RequestMeter, res: ServerResponse, receivedAt: number): void {
  const cls = res.writableFinished ? (res.statusCode / 100) | 0 : 0
  meter.responses[cls >= 1 && cls <= 5 ? cls : 0]!++
  meter.seconds.observe((performance.now() - receivedAt) / 1000)
}

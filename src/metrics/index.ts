/**
 * The metrics room: counts kept as plain numbers where events happen (tallies.ts, one integer
 * increment; request-meter.ts, once per request) and a prom-client registry that reads them, and
 * the runtime's live objects, only when `/metrics` is scraped.
 *
 * @example
 * ```ts
 * import { bump, tallies, createMetricsRegistry } from '../metrics/index.js'
 * bump(tallies.rejuvenations, 'heap')
 * const text = await createMetricsRegistry(source).metrics()
 * ```
 */
export { bump, tallies } from './tallies.js'
export { recordResponse, refusalSeconds, requestMeter, storeSeconds, type RequestMeter } from './request-meter.js'
export { createMetricsRegistry } from './registry.js'
export { mergeRuntimeMetrics, type RuntimeMetrics } from './merge-runtimes.js'
export type { InstanceFigures, InstanceRole, KeeperFigures, MetricsSource } from './metrics-source.js'
export { observe, recentEvents, TIMELINE_EVENTS, type TimelineEvent } from './timeline.js'

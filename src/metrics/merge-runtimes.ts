import { Registry, type Metric } from 'prom-client'

/** Counted by the keeper, not by a runtime: shown once, without a `runtime` label. */
const KEEPER_METRICS: ReadonlySet<string> = new Set(['crashless_runtime_deaths_total', 'crashless_runtime_promotions_total', 'crashless_reloads_total'])

/** One metric as prom-client's `getMetricsAsJSON()` gives it. */
interface MetricJson {
  name: string
  help: string
  type: string
  aggregator?: string
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[]
}

/** One runtime's metrics: its slot (the `runtime` label's value) and its `getMetricsAsJSON()`. */
export interface RuntimeMetrics {
  readonly slot: number
  readonly metrics: readonly unknown[]
}

/**
 * The admin endpoint's `/metrics` with several runtimes: every series of every runtime, labelled
 * `runtime="<slot>"` (1 to `runtimes`; stable across replacements, so a replaced runtime's
 * counters look like a restart to Prometheus), in one registry. Labelled, not summed: a sum loses
 * which runtime is saturated, and PromQL sums with `sum without (runtime)` anyway; instance ids
 * repeat between runtimes, so their gauges could not be summed at all. The keeper's own counters
 * come from one runtime only and keep no label.
 *
 * @example
 * ```ts
 * const registry = mergeRuntimeMetrics([{ slot: 1, metrics: await own.getMetricsAsJSON() }, ...peers])
 * res.end(await registry.metrics())
 * ```
 */
export function mergeRuntimeMetrics(runtimes: readonly RuntimeMetrics[]): Registry {
  const merged = new Map<string, MetricJson>()
  for (const { slot, metrics } of runtimes) {
    for (const metric of metrics as MetricJson[]) {
      const keeper = KEEPER_METRICS.has(metric.name)
      const values = keeper ? metric.values : metric.values.map((v) => ({ ...v, labels: { ...v.labels, runtime: String(slot) } }))
      const known = merged.get(metric.name)
      if (known) known.values.push(...values)
      else merged.set(metric.name, { ...metric, values })
    }
  }
  const registry = new Registry()
  // A metric object of the shape the registry formats (name, help, type, get()), as in registry.ts.
  for (const metric of merged.values()) registry.registerMetric({ ...metric, get: async () => metric } as unknown as Metric)
  return registry
}

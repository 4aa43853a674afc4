import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client'
import type { FixedHistogram, SeriesValue } from './fixed-histogram.js'
import type { InstanceFigures, MetricsSource } from './metrics-source.js'
import { refusalSeconds, requestMeters, storeSeconds } from './request-meter.js'
import { tallies, type LabelledTally } from './tallies.js'

const MIB = 1024 * 1024
const CLASSES = ['aborted', '1xx', '2xx', '3xx', '4xx', '5xx'] as const

type Rows = Iterable<readonly [Record<string, string>, number]>

/**
 * The Prometheus registry behind the admin endpoint's `/metrics`. Every crashless metric is
 * read at scrape time, from the tallies (see tallies.ts), the components' request meters
 * (request-meter.ts) and `source`'s live objects: nothing is pushed into prom-client as
 * requests run. Label values are bounded: status classes, component names (from the config),
 * roles, reasons and tweak names, instance ids (as many as the pools hold); never a URL or a
 * signature. Node's process metrics (`process_*`, `nodejs_*`) of
 * the runtime's main thread come with them.
 *
 * @example
 * ```ts
 * const registry = createMetricsRegistry(source)
 * res.end(await registry.metrics())
 * ```
 */
export function createMetricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const counter = (name: string, help: string, labelNames: string[], rows: () => Rows): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset()
        for (const [labels, value] of rows()) this.inc(labels, value)
      },
    })
  }
  const gauge = (name: string, help: string, labelNames: string[], rows: () => Rows): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset()
        for (const [labels, value] of rows()) this.set(labels, value)
      },
    })
  }

  counter('crashless_http_requests_total', 'Requests answered, by component and status class (aborted: the client left or the response was cut).', ['component', 'class'], () =>
    [...requestMeters.values()].flatMap((m) => CLASSES.map((c, i) => [{ component: m.component, class: c }, m.responses[i]!] as const)),
  )
  histogram(registry, 'crashless_http_request_duration_seconds', 'Time from a request\'s arrival to the end of its response, by component.', () => [...requestMeters.values()].map((m) => [{ component: m.component }, m.seconds]))
  gauge('crashless_http_requests_in_flight', 'Requests accepted and not answered yet (queued or running).', [], () => [[{}, source.inFlight()]])
  gauge('crashless_queued_requests', 'Requests waiting for an instance.', [], () => [[{}, source.queued()]])

  gauge('crashless_instances', 'Instances, by component, role in the pool and state.', ['component', 'role', 'state'], () => {
    const counts = new Map<string, number>()
    const key = (component: string, role: string, state: string): string => `${component}\n${role}\n${state}`
    for (const { component, starting } of source.components()) counts.set(key(component, 'spare', 'starting'), starting)
    for (const i of source.instances()) counts.set(key(i.component, i.role, i.state), (counts.get(key(i.component, i.role, i.state)) ?? 0) + 1)
    return [...counts].map(([k, n]) => {
      const [component, role, state] = k.split('\n') as [string, string, string]
      return [{ component, role, state }, n] as const
    })
  })
  gauge('crashless_instance_heap_bytes', 'Heap in use by each instance after its last garbage collection.', ['component', 'instance_id', 'role'], () => source.instances().map((i) => [instanceLabels(i), i.heapMb * MIB] as const))
  gauge('crashless_instance_external_memory_bytes', 'Memory outside the V8 heap (Buffers, ArrayBuffers) of each instance.', ['component', 'instance_id', 'role'], () => source.instances().map((i) => [instanceLabels(i), i.externalMb * MIB] as const))

  counter('crashless_recoveries_total', 'Recovery actions, by ladder level (0 suppress, 1 re-serve, 2 isolate and tweak, 3 microreboot, 4 runtime swap) and action.', ['level', 'action'], () => recoveries(source))
  counter('crashless_suppressed_crashes_total', 'Requests whose crash was suppressed in their instance: only that request failed.', [], () => [[{}, tallies.suppressed]])
  counter('crashless_reserved_requests_total', 'Requests re-served on another instance after theirs was lost.', [], () => [[{}, tallies.reserved]])
  counter('crashless_ladder_reruns_total', 'Re-runs of a failed request under a tweaked environment, by tweak.', ['tweak'], () => labelled(tallies.reruns, 'tweak'))
  counter('crashless_quarantines_total', 'Signatures quarantined, by what decided it.', ['source'], () => labelled(tallies.quarantines, 'source'))
  counter('crashless_cures_total', 'Signatures cured by a tweak of the recovery ladder.', [], () => [[{}, tallies.cures]])
  counter('crashless_quarantine_hits_total', 'Requests refused without running because their signature is quarantined.', [], () => [[{}, tallies.quarantineHits]])
  histogram(registry, 'crashless_quarantine_refusal_seconds', 'Time from a quarantined request\'s arrival to its refusal written.', () => [[{}, refusalSeconds]])
  gauge('crashless_immunity_entries', 'Live entries of the immunity table, by status.', ['status'], () => {
    const { entries, quarantined, cured } = source.immunity()
    return [[{ status: 'quarantined' }, quarantined], [{ status: 'cured' }, cured], [{ status: 'failing' }, entries - quarantined - cured]]
  })
  counter('crashless_instances_lost_total', 'Instances lost (and replaced), by reason.', ['reason'], () => labelled(tallies.instancesLost, 'reason'))
  counter('crashless_rejuvenations_total', 'Instances replaced before they failed, losing nothing, by reason.', ['reason'], () => labelled(tallies.rejuvenations, 'reason'))
  counter('crashless_deadlines_total', 'Requests that outlived their deadline.', [], () => [[{}, tallies.deadlines]])
  counter('crashless_ejections_total', 'Instances swapped for a spare for their answers (5xx outliers) or failed health checks, by rule.', ['rule'], () => labelled(tallies.ejections, 'rule'))
  counter('crashless_reboots_total', 'Components rebooted whole, by level: component, or group.', ['level'], () => labelled(tallies.reboots, 'level'))

  counter('crashless_commits_total', 'Per-request transactions committed.', [], () => [[{}, source.commits().commits]])
  counter('crashless_commit_conflicts_total', 'Commits refused because what the request read had changed (the request re-runs).', [], () => [[{}, source.commits().conflicts]])
  counter('crashless_commit_failures_total', 'Commits the state store failed (answered 503).', [], () => [[{}, source.commits().failures]])
  histogram(registry, 'crashless_store_operation_duration_seconds', 'Store reads and commits, from the dispatcher to the backend and back.', () => [[{ operation: 'read' }, storeSeconds.read], [{ operation: 'commit' }, storeSeconds.commit]])

  counter('crashless_runtime_deaths_total', 'Runtime processes that died, by role (counted by the keeper).', ['role'], () => keeperRows(source, 'runtimeDeaths', 'role'))
  counter('crashless_runtime_promotions_total', 'Runtimes promoted to active, by reason (counted by the keeper).', ['reason'], () => keeperRows(source, 'promotions', 'reason'))
  counter('crashless_reloads_total', 'Zero-downtime reloads, by outcome (counted by the keeper).', ['outcome'], () => keeperRows(source, 'reloads', 'outcome'))
  return registry
}

/**
 * An instance's labels: its component and its id within it. A named component's instance ids
 * carry the component as a prefix (`bids/i3`); the label drops it (`i3`), since the component
 * has its own label and label values carry no `/`.
 */
function instanceLabels(i: InstanceFigures): Record<string, string> {
  const prefix = `${i.component}/`
  return { component: i.component, instance_id: i.id.startsWith(prefix) ? i.id.slice(prefix.length) : i.id, role: i.role }
}

/** Recovery actions by ladder level, from the tallies and the keeper's counts (see DESIGN.md, the recovery ladder). */
function recoveries(source: MetricsSource): Rows {
  let reruns = 0
  for (const n of tallies.reruns.values()) reruns += n
  let quarantines = 0
  for (const n of tallies.quarantines.values()) quarantines += n
  let lost = 0
  for (const n of tallies.instancesLost.values()) lost += n
  const promotions = source.keeper()?.promotions ?? {}
  const rows: [string, string, number][] = [
    ['0', 'suppress', tallies.suppressed],
    ['1', 're-serve', tallies.reserved],
    ['2', 'isolate', tallies.isolated],
    ['2', 'rerun', reruns],
    ['2', 'cure', tallies.cures],
    ['2', 'quarantine', quarantines],
    ['3', 'microreboot', lost],
    ['3', 'eject', sum(tallies.ejections)],
    ['3', 'reboot-component', tallies.reboots.get('component') ?? 0],
    ['3', 'reboot-group', tallies.reboots.get('group') ?? 0],
    ['4', 'escalate', tallies.escalations],
    ['4', 'runtime-swap', (promotions.death ?? 0) + (promotions.escalation ?? 0)],
  ]
  return rows.map(([level, action, n]) => [{ level, action }, n] as const)
}

function sum(tally: LabelledTally): number {
  let n = 0
  for (const value of tally.values()) n += value
  return n
}

function labelled(tally: LabelledTally, label: string): Rows {
  return [...tally].map(([key, n]) => [{ [label]: key }, n] as const)
}

function keeperRows(source: MetricsSource, which: 'runtimeDeaths' | 'promotions' | 'reloads', label: string): Rows {
  const figures = source.keeper()
  return figures ? Object.entries(figures[which]).map(([key, n]) => [{ [label]: key }, n] as const) : []
}

/**
 * Registers a histogram read from FixedHistograms at scrape time. prom-client's Histogram can
 * only be fed observation by observation, so this is a metric object of the shape its
 * registry formats (name, help, type, `get()`), which it documents for custom collectors.
 */
function histogram(registry: Registry, name: string, help: string, series: () => [Record<string, string>, FixedHistogram][]): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: series().flatMap(([labels, h]): SeriesValue[] => h.values(name, labels)) }),
  }
  registry.registerMetric(metric as unknown as Metric)
}

/**
 * The components and groups of a resolved config in the form the runtime uses: every field
 * present, inherited from the top level where the component says nothing, and the `default`
 * component always there, last.
 */

import type { ResolvedComponent, ResolvedGroup } from './component-types.js'
import { DEFAULT_COMPONENT } from './check-components.js'
import type { ResolvedConfig } from './types.js'

/** Group defaults (see GroupOptions). */
const GROUP_INTENSITY = 3
const GROUP_PERIOD_MS = 60_000
const GROUP_WINDOW_MS = 1_000

/** Failed health checks in a row that eject an instance, by default. */
const HEALTH_FAILURES = 2

/**
 * Every component, the `default` one last, with its defaults applied.
 *
 * @example
 * ```ts
 * resolveComponents(resolveConfig({ entry: 'app.ts', instances: 2, components: { bids: { prefix: '/bids', instances: 1 } } }, opts))
 * // [{ name: 'bids', prefixes: ['/bids'], instances: 1, … }, { name: 'default', prefixes: [], instances: 2, … }]
 * ```
 */
export function resolveComponents(config: ResolvedConfig): ResolvedComponent[] {
  const named = Object.keys(config.components).filter((name) => name !== DEFAULT_COMPONENT)
  return [...named, DEFAULT_COMPONENT].map((name) => {
    const own = config.components[name] ?? {}
    const prefix = own.prefix ?? []
    const health = own.healthCheck
    return {
      name,
      prefixes: Array.isArray(prefix) ? [...prefix] : [prefix],
      entry: own.entry ?? config.entry,
      instances: own.instances ?? config.instances,
      spares: own.spares ?? config.spares,
      group: own.group ?? null,
      limits: {
        concurrency: own.limits?.concurrency ?? config.limits.concurrency,
        queue: own.limits?.queue ?? config.limits.queue,
        heapMb: own.limits?.heapMb ?? config.limits.heapMb,
        stackMb: own.limits?.stackMb ?? config.limits.stackMb,
        externalMb: own.limits?.externalMb ?? config.limits.externalMb,
      },
      healthCheck: health === undefined
        ? null
        : { path: health.path, everyMs: health.everyMs, timeoutMs: health.timeoutMs ?? Math.min(health.everyMs, config.timeouts.leaseMs * 2), failures: health.failures ?? HEALTH_FAILURES },
      intensity: own.intensity ?? config.recovery.intensity,
      periodMs: own.periodMs ?? config.recovery.periodMs,
    }
  })
}

/**
 * Every group with its members.
 *
 * @example
 * ```ts
 * resolveGroups(config) // [{ name: 'trade', members: ['items', 'bids'], intensity: 3, periodMs: 60000, windowMs: 1000 }]
 * ```
 */
export function resolveGroups(config: ResolvedConfig): ResolvedGroup[] {
  return Object.entries(config.groups).map(([name, group]) => ({
    name,
    members: Object.entries(config.components).filter(([, c]) => c.group === name).map(([member]) => member),
    intensity: group.intensity ?? GROUP_INTENSITY,
    periodMs: group.periodMs ?? GROUP_PERIOD_MS,
    windowMs: group.windowMs ?? GROUP_WINDOW_MS,
  }))
}

/**
 * The config one component's pool and dispatcher run with: the runtime's, with the
 * component's entry, instances, spares and limits.
 *
 * @example
 * ```ts
 * const bids = componentConfig(config, resolveComponents(config)[0]!)
 * new Pool(bids, log, hooks)
 * ```
 */
export function componentConfig(config: ResolvedConfig, component: ResolvedComponent): ResolvedConfig {
  return {
    ...config,
    entry: component.entry,
    instances: component.instances,
    spares: component.spares,
    limits: { ...config.limits, ...component.limits },
  }
}

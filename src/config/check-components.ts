/**
 * Validation of the `components` and `groups` sections: the shape of each entry (a Check, run
 * per layer like every option), then the tree as a whole once the layers are merged (a group
 * named but not declared, two components claiming one prefix, a component with no prefix).
 * Errors name the option path, e.g. `components.bids.limits.heapMb`.
 */

import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '../errors.js'
import { MAX_TIMER_MS, describeValue, integer, text, type Check, type CheckResult } from './checks.js'
import { closest } from './did-you-mean.js'
import { isPlainObject } from './merge-config.js'
import type { CrashlessConfig, ResolvedConfig } from './types.js'

/** The component that serves what no prefix matches; it has no prefix. */
export const DEFAULT_COMPONENT = 'default'

const positive = integer({ min: 1 })
const timer = integer({ min: 1, max: MAX_TIMER_MS })

const LIMIT_CHECKS: Record<string, Check> = {
  concurrency: positive,
  queue: positive,
  heapMb: positive,
  stackMb: positive,
  externalMb: integer({ min: 0, max: 1024 * 1024 }),
}

const HEALTH_CHECKS: Record<string, Check> = {
  path: (value) => (typeof value === 'string' && /^\/[^\s#]*$/.test(value) ? { ok: true, value } : { ok: false, expected: 'a path starting with / (a query is fine)', got: value }),
  // A check more often than this costs more than it tells.
  everyMs: integer({ min: 100, max: MAX_TIMER_MS }),
  timeoutMs: timer,
  failures: positive,
}

/** A component or group name: what logs, metrics and instance ids show. */
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/

/**
 * A route prefix, normalised: starts with `/`, no trailing `/`, no query, fragment, wildcard or
 * whitespace, and not `/` alone (that is the default component's: everything).
 *
 * @example
 * ```ts
 * routePrefix('/bids/') // { ok: true, value: '/bids' }
 * routePrefix('bids')   // { ok: false, … }
 * ```
 */
export const routePrefix: Check = (value) => {
  const expected = 'a route prefix such as "/bids": starting with /, no query, fragment, * or spaces, not / alone'
  if (typeof value !== 'string' || !/^\/[^\s?#*]*$/.test(value)) return { ok: false, expected, got: value }
  const normalised = value.replace(/\/+$/, '')
  return normalised === '' ? { ok: false, expected, got: value } : { ok: true, value: normalised }
}

function section(value: unknown, checks: Record<string, Check>, what: string, at: string): CheckResult {
  if (!isPlainObject(value)) return { ok: false, expected: 'an object', got: value, at }
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    const check = Object.hasOwn(checks, key) ? checks[key] : undefined
    if (check === undefined) {
      const near = closest(key, Object.keys(checks))
      return { ok: false, expected: `${what} (${near === undefined ? Object.keys(checks).join(', ') : `did you mean ${near}?`})`, got: key, at: `${at}.${key}` }
    }
    if (inner === undefined) continue
    const result = check(inner)
    if (!result.ok) return { ...result, at: `${at}.${key}${result.at ?? ''}` }
    out[key] = result.value
  }
  return { ok: true, value: out }
}

const prefixes: Check = (value) => {
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) return { ok: false, expected: 'a route prefix or a non-empty list of them', got: value }
  const out: string[] = []
  for (const [i, item] of list.entries()) {
    const result = routePrefix(item)
    if (!result.ok) return Array.isArray(value) ? { ...result, at: `[${i}]` } : result
    out.push(result.value as string)
  }
  return { ok: true, value: Array.isArray(value) ? out : out[0] }
}

const COMPONENT_CHECKS: Record<string, Check> = {
  prefix: prefixes,
  entry: text,
  instances: positive,
  spares: integer({ min: 0 }),
  group: (value) => (typeof value === 'string' && NAME.test(value) ? { ok: true, value } : { ok: false, expected: 'a group name (a letter, then letters, digits, - or _)', got: value }),
  limits: (value) => section(value, LIMIT_CHECKS, 'a component limit', ''),
  healthCheck: (value) => {
    const result = section(value, HEALTH_CHECKS, 'a health check option', '')
    if (result.ok && (result.value as { path?: unknown; everyMs?: unknown }).path === undefined) return { ok: false, expected: 'a path', got: undefined, at: '.path' }
    if (result.ok && (result.value as { everyMs?: unknown }).everyMs === undefined) return { ok: false, expected: 'how often to check, in ms (at least 100)', got: undefined, at: '.everyMs' }
    return result
  },
  intensity: positive,
  periodMs: timer,
}

const GROUP_CHECKS: Record<string, Check> = {
  intensity: positive,
  periodMs: timer,
  windowMs: timer,
}

function record(value: unknown, checks: Record<string, Check>, what: string): CheckResult {
  if (!isPlainObject(value)) return { ok: false, expected: `an object of ${what}s by name`, got: value }
  const out: Record<string, unknown> = {}
  for (const [name, entry] of Object.entries(value)) {
    if (!NAME.test(name)) return { ok: false, expected: `a ${what} name (a letter, then letters, digits, - or _; at most 32)`, got: name, at: `.${name}` }
    if (entry === undefined) continue
    const result = section(entry, checks, `a ${what} option`, `.${name}`)
    if (!result.ok) return result
    out[name] = result.value
  }
  return { ok: true, value: out }
}

/**
 * The `components` section, entry by entry (the tree is checked by {@link checkComponentTree}).
 *
 * @example
 * ```ts
 * components({ bids: { prefix: '/bids/', instances: 2 } }) // { ok: true, value: { bids: { prefix: '/bids', instances: 2 } } }
 * ```
 */
export const components: Check = (value) => record(value, COMPONENT_CHECKS, 'component')

/** The `groups` section, entry by entry. */
export const groups: Check = (value) => record(value, GROUP_CHECKS, 'group')

/**
 * Makes the `entry` of every component absolute against `baseDir` (see `anchorEntry`).
 *
 * @example
 * ```ts
 * anchorComponentEntries({ components: { img: { prefix: '/img', entry: './img.ts' } } }, '/srv')
 * // components.img.entry === '/srv/img.ts'
 * ```
 */
export function anchorComponentEntries(config: CrashlessConfig, baseDir: string): CrashlessConfig {
  if (config.components === undefined) return config
  const anchored: NonNullable<CrashlessConfig['components']> = {}
  for (const [name, component] of Object.entries(config.components)) {
    const entry = component.entry?.startsWith('file:') ? fileURLToPath(component.entry) : component.entry
    anchored[name] = entry === undefined ? component : { ...component, entry: isAbsolute(entry) ? entry : resolve(baseDir, entry) }
  }
  return { ...config, components: anchored }
}

/**
 * The tree as a whole, once every layer is merged: each component but `default` has a prefix
 * and `default` has none; no prefix is claimed twice (nested ones are fine: the longest
 * wins); every group named exists, and every group has members.
 *
 * @throws ConfigError naming the option, e.g. `components.bids.group: unknown group "bid" (did you mean groups.bids?)`
 * @example
 * ```ts
 * checkComponentTree(resolveConfig({ entry: 'app.ts', components: { a: { prefix: '/x' }, b: { prefix: '/x/' } } }, opts))
 * // throws: invalid config: components.b.prefix: "/x" is also components.a's prefix …
 * ```
 */
export function checkComponentTree(config: ResolvedConfig): ResolvedConfig {
  const owners = new Map<string, string>()
  const named = new Set<string>()
  for (const [name, component] of Object.entries(config.components)) {
    const path = `components.${name}`
    if (name === DEFAULT_COMPONENT) {
      if (component.prefix !== undefined) throw new ConfigError(`${path}.prefix`, `the ${DEFAULT_COMPONENT} component takes every request no other prefix matches; it has no prefix of its own`)
    } else if (component.prefix === undefined) {
      throw new ConfigError(`${path}.prefix`, `missing: name the route prefix(es) the component serves, e.g. prefix: '/${name}'`)
    }
    const list = component.prefix === undefined ? [] : Array.isArray(component.prefix) ? component.prefix : [component.prefix]
    for (const prefix of list) {
      const owner = owners.get(prefix)
      if (owner !== undefined) throw new ConfigError(`${path}.prefix`, `${describeValue(prefix)} overlaps components.${owner}.prefix: a prefix routes to one component only`)
      owners.set(prefix, name)
    }
    if (component.group === undefined) continue
    named.add(component.group)
    if (!Object.hasOwn(config.groups, component.group)) {
      const near = closest(component.group, Object.keys(config.groups))
      throw new ConfigError(`${path}.group`, `unknown group ${describeValue(component.group)}${near === undefined ? '' : ` (did you mean groups.${near}?)`}: declare it under groups`)
    }
  }
  for (const group of Object.keys(config.groups)) {
    if (!named.has(group)) throw new ConfigError(`groups.${group}`, 'no component belongs to this group (set components.<name>.group)')
  }
  return config
}

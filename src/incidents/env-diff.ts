import type { Fingerprint } from './fingerprint.js'
import { isNoiseVariable } from './env-vars.js'

/** One difference between two fingerprints; `weight` 0-100 is how likely it is to matter. */
export interface EnvDifference {
  path: string
  a: unknown
  b: unknown
  weight: number
  why: string
}

/**
 * How much a difference in each part of a fingerprint tends to matter for reproducing a bug,
 * most first. The first prefix that matches a difference's path decides. Reasons are what a
 * developer reads next to the difference.
 */
const WEIGHTS: readonly { prefix: string; weight: number; why: string }[] = [
  { prefix: 'dependencies.', weight: 100, why: "a dependency's version: the likeliest cause of a behaviour change" },
  { prefix: 'node.major', weight: 95, why: "Node's major version: APIs, defaults and V8 change" },
  { prefix: 'memory.cgroupLimitMb', weight: 92, why: 'the memory limit decides when memory runs out' },
  { prefix: 'lockfile', weight: 90, why: 'the lockfile: some transitive dependency differs' },
  { prefix: 'arch', weight: 88, why: 'CPU architecture: native modules and numeric edge cases' },
  { prefix: 'configHash', weight: 85, why: "crashless's resolved config (limits, timeouts, tweaks)" },
  { prefix: 'crashless', weight: 80, why: "crashless's own version" },
  { prefix: 'execArgv', weight: 78, why: 'Node flags (heap size, stack size, experimental features)' },
  { prefix: 'nodeOptions', weight: 78, why: 'NODE_OPTIONS flags' },
  { prefix: 'node.version', weight: 75, why: "Node's minor or patch version" },
  { prefix: 'v8', weight: 70, why: "V8's version" },
  { prefix: 'openssl', weight: 68, why: "OpenSSL's version (TLS, crypto)" },
  { prefix: 'uv', weight: 66, why: "libuv's version (I/O, timers, threads)" },
  { prefix: 'glibc', weight: 64, why: "glibc's version (DNS, locales, native modules)" },
  { prefix: 'ulimits.', weight: 60, why: 'a resource limit (open files, stack, memory)' },
  { prefix: 'timeZone', weight: 58, why: 'time zone: date arithmetic and formatting' },
  { prefix: 'locale', weight: 56, why: 'locale: sorting, number and date formatting' },
  { prefix: 'env.', weight: 62, why: 'an environment variable: the app or a library may read it' },
  { prefix: 'os', weight: 50, why: 'operating system' },
  { prefix: 'kernel', weight: 45, why: 'kernel version' },
  { prefix: 'cpu.count', weight: 40, why: 'CPU count: concurrency, default instance count' },
  { prefix: 'memory.totalMb', weight: 35, why: "the machine's memory" },
  { prefix: 'cpu.model', weight: 25, why: 'CPU model: speed (timing-dependent bugs)' },
  { prefix: 'host', weight: 5, why: 'host name: rarely matters' },
  { prefix: 'uptimeS', weight: 1, why: 'uptime: noise' },
]

/**
 * The differences between two fingerprints, most likely to matter first (a dependency's
 * version, Node's major, a memory limit) and noise last (host name, uptime).
 *
 * @example
 * ```ts
 * diffFingerprints(theirs, fingerprint(appDir, null))[0]
 * // { path: 'dependencies.semver', a: '7.5.1', b: '7.5.4', weight: 100, why: "a dependency's version: …" }
 * ```
 */
export function diffFingerprints(a: Fingerprint, b: Fingerprint): EnvDifference[] {
  const left = flatten(a)
  const right = flatten(b)
  const out: EnvDifference[] = []
  for (const path of new Set([...left.keys(), ...right.keys()])) {
    if (path === 'uptimeS') continue
    // A fingerprint written before variables were kept says nothing about them.
    if (path.startsWith('env.') && (a.env === undefined || b.env === undefined)) continue
    const x = left.get(path)
    const y = right.get(path)
    if (JSON.stringify(x) === JSON.stringify(y)) continue
    const rule = path.startsWith('env.') && isNoiseVariable(path.slice(4)) ? { weight: 3, why: 'a variable of the shell or session: rarely matters' } : WEIGHTS.find((r) => path === r.prefix || path.startsWith(r.prefix.endsWith('.') ? r.prefix : `${r.prefix}.`)) ?? { weight: 30, why: 'other' }
    // Node's version shows whole, whichever part of it differs.
    if (path.startsWith('node.')) out.push({ path: 'node', a: a.node, b: b.node, weight: rule.weight, why: rule.why })
    else out.push({ path, a: x ?? null, b: y ?? null, weight: rule.weight, why: rule.why })
  }
  // Node's major and full version both differ when the major does: keep the weightier one.
  const nodes = out.filter((d) => d.path === 'node')
  if (nodes.length > 1) out.splice(out.indexOf(nodes.sort((p, q) => p.weight - q.weight)[0]!), 1)
  if (a.uptimeS !== b.uptimeS) out.push({ path: 'uptimeS', a: a.uptimeS, b: b.uptimeS, weight: 1, why: 'uptime: noise' })
  return out.sort((p, q) => q.weight - p.weight || p.path.localeCompare(q.path))
}

/** Differences at least this weighty are worth a warning before a replay. */
export const MATTERS = 60

/** Leaves of a fingerprint by dotted path; Node's version is split into major and the rest. */
function flatten(fp: Fingerprint): Map<string, unknown> {
  const out = new Map<string, unknown>()
  const walk = (value: unknown, path: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key)
    } else out.set(path, value)
  }
  const { node, uptimeS: _uptime, ...rest } = fp
  walk(rest, '')
  out.set('node.major', node.split('.')[0])
  out.set('node.version', node)
  return out
}

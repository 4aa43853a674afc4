import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { environmentVariables } from './env-vars.js'

/**
 * The environment a failure happened in (PerfCheck's configuration capture): enough to tell,
 * when a reproduction elsewhere behaves differently, what differs. See env-diff.ts.
 */
export interface Fingerprint {
  node: string
  v8: string
  uv: string
  openssl: string
  execArgv: string[]
  nodeOptions: string | null
  os: string
  kernel: string
  arch: string
  glibc: string | null
  cpu: { model: string; count: number }
  memory: { totalMb: number; cgroupLimitMb: number | null }
  ulimits: Record<string, string | number>
  timeZone: string
  locale: string
  /** The process's environment variables, credentials redacted (env-vars.ts); absent in older incidents. */
  env?: Record<string, string>
  /** The app's lockfile (package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml) and its SHA-256. */
  lockfile: { file: string; sha256: string } | null
  /** The installed versions of the app's direct dependencies (`null`: declared, not installed). */
  dependencies: Record<string, string | null>
  crashless: string
  /** SHA-256 of the resolved config (secrets and functions left out): equal hashes, equal configs. */
  configHash: string | null
  host: string
  uptimeS: number
}

const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb']
/** A dependency list longer than this is cut (a fingerprint stays small). */
const MAX_DEPENDENCIES = 300

/**
 * The fingerprint of this process's environment, for the app at `appDir` (its nearest
 * package.json above decides the lockfile and dependencies). Takes ~10 ms (Node's diagnostic
 * report gives glibc, CPU and ulimits): the runtime computes it once, at start, before any
 * instance exists, and every incident carries that one.
 *
 * @example
 * ```ts
 * const here = fingerprint('/srv/app/src', hashConfig(config), config.incidents.redact.env)
 * here.node // '20.20.2'
 * ```
 */
export function fingerprint(appDir: string, configHash: string | null, redactEnv: readonly string[] = []): Fingerprint {
  const report = readReport()
  const header = report?.header
  const cpus = os.cpus()
  const project = projectDir(appDir)
  const intl = Intl.DateTimeFormat().resolvedOptions()
  return {
    node: process.versions.node,
    v8: process.versions.v8,
    uv: process.versions.uv ?? '',
    openssl: process.versions.openssl ?? '',
    execArgv: [...process.execArgv],
    nodeOptions: process.env.NODE_OPTIONS ?? null,
    os: `${process.platform} ${header?.osName ?? os.type()} ${header?.osVersion ?? os.version()}`.trim(),
    kernel: os.release(),
    arch: process.arch,
    glibc: header?.glibcVersionRuntime ?? null,
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', count: os.availableParallelism() },
    memory: { totalMb: Math.round(os.totalmem() / 2 ** 20), cgroupLimitMb: cgroupLimitMb() },
    ulimits: report?.userLimits ? ulimitsOf(report.userLimits) : {},
    timeZone: intl.timeZone,
    locale: intl.locale,
    env: environmentVariables(process.env, redactEnv),
    lockfile: project ? lockfileOf(project) : null,
    dependencies: project ? dependenciesOf(project) : {},
    crashless: crashlessVersion(),
    configHash,
    host: os.hostname(),
    uptimeS: Math.round(os.uptime()),
  }
}

/**
 * SHA-256 of a resolved config, leaving out what must not leave the machine even hashed
 * (`admin.token`, `session.secret`) and rendering functions by their source.
 *
 * @example
 * ```ts
 * hashConfig({ port: 3000 }) // 'sha256:5d…'
 * ```
 */
export function hashConfig(config: object): string {
  const json = JSON.stringify(config, (key, value: unknown) => {
    if (key === 'token' || key === 'secret') return undefined
    return typeof value === 'function' ? String(value) : value
  })
  return `sha256:${createHash('sha256').update(json).digest('hex')}`
}

interface Report {
  header?: { osName?: string; osVersion?: string; glibcVersionRuntime?: string }
  userLimits?: Record<string, { soft: string | number; hard: string | number }>
}

function readReport(): Report | null {
  try {
    const report = process.report as unknown as { excludeNetwork?: boolean; getReport(): object }
    // Network details are slow to gather (and none of a fingerprint's business).
    if ('excludeNetwork' in report) report.excludeNetwork = true
    return report.getReport() as Report
  } catch {
    return null
  }
}

function ulimitsOf(limits: NonNullable<Report['userLimits']>): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const [name, { soft }] of Object.entries(limits)) out[name] = soft
  return out
}

/** The container's memory limit (cgroup v2, then v1), MiB; null when none. */
function cgroupLimitMb(): number | null {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const text = readFileSync(file, 'utf8').trim()
      if (!/^\d+$/.test(text)) return null
      const bytes = Number(text)
      return bytes > 0 && bytes < 2 ** 60 ? Math.floor(bytes / 2 ** 20) : null
    } catch {
      continue
    }
  }
  return null
}

/** The nearest directory at or above `dir` with a package.json. */
function projectDir(dir: string): string | null {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) return at
    if (dirname(at) === at) return null
  }
}

function lockfileOf(project: string): Fingerprint['lockfile'] {
  for (const name of LOCKFILES) {
    try {
      return { file: name, sha256: createHash('sha256').update(readFileSync(join(project, name))).digest('hex') }
    } catch {
      continue
    }
  }
  return null
}

function dependenciesOf(project: string): Record<string, string | null> {
  let declared: string[]
  try {
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies?: object; devDependencies?: object; optionalDependencies?: object }
    declared = [...new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})])].sort()
  } catch {
    return {}
  }
  const out: Record<string, string | null> = {}
  for (const name of declared.slice(0, MAX_DEPENDENCIES)) out[name] = installedVersion(project, name)
  return out
}

/** The version installed for `name`, looking up node_modules folders from `project` as Node does. */
function installedVersion(project: string, name: string): string | null {
  for (let at = project; ; at = dirname(at)) {
    try {
      return (JSON.parse(readFileSync(join(at, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version ?? null
    } catch {
      if (dirname(at) === at) return null
    }
  }
}

let ownVersion: string | null = null

function crashlessVersion(): string {
  ownVersion ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return ownVersion
}

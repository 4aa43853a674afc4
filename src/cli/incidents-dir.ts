import { dirname, resolve } from 'node:path'
import type { ParseArgsConfig } from 'node:util'
import { defaults, loadConfigFile, resolveConfig, type CrashlessConfig } from '../config/index.js'
import { UsageError } from '../errors.js'
import { hashConfig, type RedactRules } from '../incidents/index.js'

/** Flags every incidents command takes. */
export const INCIDENT_FLAGS = {
  dir: { type: 'string' },
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options']

/**
 * Runs a `parseArgs` call, turning its complaint into a usage error naming the command.
 *
 * @example
 * ```ts
 * const { values } = parsing('crashless env', () => parseArgs({ args, options: INCIDENT_FLAGS }))
 * ```
 */
export function parsing<T>(command: string, parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message}`, { cause: err })
  }
}

/** What the working directory's config says, for commands that run without crashless running. */
export interface Workspace {
  /** The incidents folder: `--dir`, else the config file's `incidents.dir`, else `.crashless/incidents` (relative to the working directory). */
  dir: string
  config: CrashlessConfig
  /** The hash a runtime started here with this config file would give its fingerprint (null without an entry). */
  configHash: string | null
  /** Where the app is, when the config names it (else the working directory). */
  appDir: string
  /** Environment variables kept out of fingerprints (`incidents.redact.env`), lower-case. */
  redactEnv: string[]
  /** Extra header and body field names to redact (`incidents.redact`), lower-case: what a kept triage is redacted by. */
  redact: RedactRules
}

/**
 * The working directory's incidents folder and config. A config file is only imported when
 * there is one (or `--config` names it); it needs no `entry`.
 *
 * @example
 * ```ts
 * const { dir } = await workspace({ dir: undefined, config: undefined }, process.cwd())
 * ```
 */
export async function workspace(flags: { dir?: string | undefined; config?: string | undefined }, cwd: string): Promise<Workspace> {
  const { config } = flags.dir !== undefined && flags.config === undefined ? { config: {} as CrashlessConfig } : await loadConfigFile({ configFile: flags.config, cwd })
  const dir = resolve(cwd, flags.dir ?? config.incidents?.dir ?? defaults.incidents.dir)
  const configHash = config.entry ? hashConfig(resolveConfig(config, { baseDir: cwd, source: 'config file' })) : null
  const lower = (names: string[] | undefined): string[] => (names ?? []).map((name) => name.toLowerCase())
  const { redact } = config.incidents ?? {}
  return { dir, config, configHash, appDir: config.entry ? dirname(config.entry) : cwd, redactEnv: lower(redact?.env), redact: { headers: lower(redact?.headers), bodyFields: lower(redact?.bodyFields) } }
}

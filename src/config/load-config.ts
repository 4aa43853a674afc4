/**
 * Finding, importing and layering the user's config file. Importing is the risky part: a
 * config file is code, and it can fail to parse or throw; either way the user must be told
 * which file failed and why, not shown a bare stack from deep inside a loader.
 */

import { statSync } from 'node:fs'
import { dirname, extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from '../errors.js'
import { mergeConfig, isPlainObject } from './merge-config.js'
import type { CrashlessConfig, ResolvedConfig } from './types.js'
import { anchorEntry, completeConfig, validateConfig } from './validate.js'

/** Looked for in this order in the working directory when no file is named. */
export const CONFIG_FILE_NAMES = ['crashless.config.ts', 'crashless.config.mts', 'crashless.config.js', 'crashless.config.mjs']

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts'])
const JAVASCRIPT = new Set(['.js', '.mjs', '.cjs'])

/** The environment variable the CLI sends as the admin token, which the server honours too. */
export const ADMIN_TOKEN_ENV = 'CRASHLESS_ADMIN_TOKEN'

/**
 * Resolves the configuration crashless runs with: defaults, overlaid by the config file,
 * overlaid by `$CRASHLESS_ADMIN_TOKEN` (as `admin.token`, when set and not empty: the CLI
 * sends the same variable, so a server started beside it must require it), overlaid by
 * `overrides` (the command-line flags). Each layer is validated on its own so an
 * error says whether the bad value is in the file or on the command line.
 *
 * `configFile` (relative to `cwd`) must exist when given; otherwise the first of
 * {@link CONFIG_FILE_NAMES} found in `cwd` is used, and having none is fine. A relative
 * `entry` is resolved against the config file's directory when it comes from the file, and
 * against `cwd` when it comes from `overrides`.
 *
 * @throws ConfigError with `path` set to the file when it is missing or fails to import, or
 *   to the option (e.g. `limits.queue`) when a value is invalid or `entry` is missing.
 * @example
 * ```ts
 * // `crashless run --port 8080` in a directory holding crashless.config.ts
 * const config = await loadConfig({ cwd: process.cwd(), overrides: { port: 8080 } })
 * config.port  // 8080, whatever the file says
 * config.entry // absolute, from the file's `entry`
 * ```
 */
export async function loadConfig(options: {
  configFile?: string
  cwd: string
  overrides: CrashlessConfig
  /** Where `CRASHLESS_ADMIN_TOKEN` is read. Default: `process.env`. */
  env?: NodeJS.ProcessEnv
}): Promise<ResolvedConfig> {
  const cwd = resolve(options.cwd)
  const { file, config: fromFile } = await loadConfigFile({ configFile: options.configFile, cwd })
  const fromFlags = anchorEntry(validateConfig(options.overrides, 'command line'), cwd)
  const envToken = (options.env ?? process.env)[ADMIN_TOKEN_ENV]
  // The same precedence as the CLI's (--token, then the variable, then the file), so both
  // sides agree on which token is in force. A bad value is named as the variable.
  const fromEnv = envToken ? validateConfig({ admin: { token: envToken } }, `$${ADMIN_TOKEN_ENV}`) : {}

  const where = file === undefined
    ? `not given on the command line, and no ${CONFIG_FILE_NAMES.join(' / ')} in ${cwd}`
    : `not set in ${file} nor on the command line`
  return completeConfig(mergeConfig(mergeConfig(fromFile, fromEnv), fromFlags), where)
}

/**
 * The config file layer alone, validated but neither completed nor required to name an
 * `entry`: for commands that talk to a running crashless (`crashless immunity`) and only need
 * a few of its options. `file` is undefined when there is none (and none was named).
 *
 * @example
 * ```ts
 * const { config } = await loadConfigFile({ cwd: process.cwd() })
 * config.admin?.port // as written in crashless.config.ts, if at all
 * ```
 */
export async function loadConfigFile(options: { configFile?: string; cwd: string }): Promise<{ file: string | undefined; config: CrashlessConfig }> {
  const cwd = resolve(options.cwd)
  const file = options.configFile === undefined ? findConfigFile(cwd) : explicitConfigFile(resolve(cwd, options.configFile))
  if (file === undefined) return { file, config: {} }
  const exported = configExport(await importConfigFile(file))
  return { file, config: anchorEntry(validateConfig(exported, file), dirname(file)) }
}

/** The first conventional config file in `dir`, if any. */
function findConfigFile(dir: string): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = join(dir, name)
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate
  }
  return undefined
}

/** A file the user named must exist: silently running with defaults would hide the typo. */
function explicitConfigFile(file: string): string {
  const stats = statSync(file, { throwIfNoEntry: false })
  if (stats === undefined) throw new ConfigError(file, 'config file not found')
  if (!stats.isFile()) throw new ConfigError(file, 'config file is not a file')
  const ext = extname(file)
  if (!TYPESCRIPT.has(ext) && !JAVASCRIPT.has(ext)) {
    throw new ConfigError(file, `cannot load a ${ext || 'extensionless'} config file; use .ts, .mts, .js or .mjs`)
  }
  return file
}

async function importConfigFile(file: string): Promise<unknown> {
  try {
    if (TYPESCRIPT.has(extname(file))) {
      // Imported lazily: tsx installs loader hooks, which a plain .js config never needs.
      const { tsImport } = await import('tsx/esm/api')
      // tsImport loads in its own namespace each call, so an edited file is read afresh.
      return await tsImport(pathToFileURL(file).href, import.meta.url)
    }
    // Node caches ES modules by URL for the life of the process; the modification time in
    // the query makes a reload see an edited file while an unchanged one stays cached.
    const url = pathToFileURL(file)
    url.searchParams.set('mtime', String(statSync(file).mtimeMs))
    return await import(url.href)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new ConfigError(file, `cannot load config file: ${reason}`, { cause: err })
  }
}

/**
 * The config object a module exports: its default export, or the module's named exports
 * when it has none (`export const port = 8080`).
 */
function configExport(mod: unknown): unknown {
  if (!isPlainObject(mod)) return mod
  let value: unknown = 'default' in mod ? mod.default : mod
  // tsx compiles a .ts file outside a `"type": "module"` package to CommonJS; its exports
  // object then arrives as the default export, flagged __esModule, with the real default
  // one level further down.
  if (isPlainObject(value) && value.__esModule === true) {
    value = 'default' in value ? value.default : value
  }
  return value
}

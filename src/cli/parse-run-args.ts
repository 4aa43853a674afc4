import { parseArgs } from 'node:util'
import type { CrashlessConfig } from '../config/index.js'
import { UsageError } from '../errors.js'

/** The `crashless run` command line, parsed. */
export interface RunArgs {
  configFile: string | undefined
  overrides: CrashlessConfig
  /** False with `--no-keeper`: one process, as embedded, for debugging. */
  keeper: boolean
  /** The arguments a keeper passes on to its runtimes (all but `--no-keeper`). */
  runtimeArgs: string[]
}

/**
 * Parses `crashless run <entry> [--port <n>] [--host <h>] [--instances <n>] [--runtimes <n>|auto] [--isolation worker|process] [--config <file>] [--log-level <level>] [--log-format pretty|json|auto] [--admin-port <n>] [--no-keeper]`.
 * Values are passed on as strings-turned-numbers; the config room validates them and names
 * the flag's option path when one is wrong.
 *
 * @example
 * ```ts
 * parseRunArgs(['app.ts', '--port', '8080']) // { configFile: undefined, overrides: { entry: 'app.ts', port: 8080 }, keeper: true, ... }
 * ```
 */
export function parseRunArgs(argv: string[]): RunArgs {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        instances: { type: 'string', short: 'i' },
        runtimes: { type: 'string' },
        isolation: { type: 'string' },
        config: { type: 'string', short: 'c' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'admin-port': { type: 'string' },
        'no-keeper': { type: 'boolean' },
      },
    })
  } catch (err) {
    throw new UsageError(`crashless run: ${(err as Error).message}`, { cause: err })
  }
  const { values, positionals } = parsed
  if (positionals.length > 1) throw new UsageError(`crashless run takes one entry file, got: ${positionals.join(' ')}`)
  const overrides: CrashlessConfig = {}
  if (positionals[0] !== undefined) overrides.entry = positionals[0]
  if (values.port !== undefined) overrides.port = toNumber('--port', values.port)
  if (values.instances !== undefined) overrides.instances = toNumber('--instances', values.instances)
  if (values.runtimes !== undefined) overrides.runtimes = values.runtimes === 'auto' ? 'auto' : toNumber('--runtimes', values.runtimes)
  if (values.host !== undefined) overrides.host = values.host
  // Checked by the config room, which names `isolation` when it is neither value.
  if (values.isolation !== undefined) overrides.isolation = values.isolation as CrashlessConfig['isolation']
  if (values['log-level'] !== undefined) overrides.log = { level: values['log-level'] as never }
  if (values['log-format'] !== undefined) overrides.log = { ...overrides.log, format: values['log-format'] as never }
  if (values['admin-port'] !== undefined) overrides.admin = { port: toNumber('--admin-port', values['admin-port']) }
  return { configFile: values.config, overrides, keeper: values['no-keeper'] !== true, runtimeArgs: argv.filter((arg) => arg !== '--no-keeper') }
}

function toNumber(flag: string, value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`crashless run: ${flag} expects a number, got "${value}"`)
  return n
}

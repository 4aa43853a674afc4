import { isIP } from 'node:net'
import { defaults, loadConfigFile } from '../config/index.js'
import { UsageError } from '../errors.js'
import { AdminCallError, type AdminTarget } from './admin-client.js'

/** What the command line said about the admin endpoint. */
export interface AdminFlags {
  admin: string | undefined
  token: string | undefined
  config: string | undefined
}

/**
 * Where to find the admin endpoint, first match wins: `--admin`, else the config file's
 * `admin.host`/`admin.port` (the file is optional, and needs no `entry` for this), else
 * 127.0.0.1:9300. The token: `--token`, else `$CRASHLESS_ADMIN_TOKEN`, else the file's
 * `admin.token`.
 *
 * @example
 * ```ts
 * await resolveAdminTarget({ admin: undefined, token: undefined, config: undefined }, process.cwd(), process.env)
 * // { url: 'http://127.0.0.1:9300', token: undefined } when there is no config file
 * ```
 */
export async function resolveAdminTarget(flags: AdminFlags, cwd: string, env: NodeJS.ProcessEnv): Promise<AdminTarget> {
  if (flags.admin !== undefined) checkUrl(flags.admin)
  let token = flags.token ?? (env.CRASHLESS_ADMIN_TOKEN || undefined)
  // A config file is code: only import it when it can tell something the flags did not.
  if (flags.admin !== undefined && token !== undefined && flags.config === undefined) return { url: flags.admin, token }
  const { file, config } = await loadConfigFile({ configFile: flags.config, cwd })
  token ??= config.admin?.token
  if (flags.admin !== undefined) return { url: flags.admin, token }
  const admin = { ...defaults.admin, ...config.admin }
  if (!admin.enabled) throw new AdminCallError(`the admin endpoint is disabled in ${file} (admin.enabled: false); enable it and restart crashless`)
  if (admin.port === 0) throw new AdminCallError(`admin.port is 0 in ${file} (a free port is picked at start): pass --admin http://127.0.0.1:<port>, the port in the "admin-listening" log line`)
  return { url: `http://${connectHost(admin.host)}:${admin.port}`, token }
}

/** The address to connect to for a bind address: the wildcard ones are reached on loopback. */
function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::' || host === '[::]') return '[::1]'
  return isIP(host) === 6 ? `[${host}]` : host
}

function checkUrl(value: string): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`--admin expects a URL such as http://127.0.0.1:9300, got "${value}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--admin expects an http:// or https:// URL, got "${value}"`)
}

/**
 * The one rule that spans two admin options: an admin endpoint reachable from other machines
 * must be protected by a token. Checked once the layers are merged, since the host may come
 * from the file and the token from somewhere else.
 */

import { isIP } from 'node:net'
import { ConfigError } from '../errors.js'
import type { ResolvedConfig } from './types.js'

/**
 * True when `host` only accepts connections from this machine: `localhost`, 127.0.0.0/8,
 * `::1` (also IPv4-mapped). `0.0.0.0`, `::` and every other address or name are not.
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1') // true
 * isLoopbackHost('0.0.0.0')   // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  const lower = bare.toLowerCase()
  if (lower === 'localhost') return true
  const v4 = lower.startsWith('::ffff:') ? lower.slice(7) : lower
  if (isIP(v4) === 4) return v4.startsWith('127.')
  return isIP(lower) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(lower)
}

/**
 * Returns `config` unchanged, or throws when the admin endpoint would listen beyond loopback
 * without a token.
 *
 * @throws ConfigError naming `admin.token`
 * @example
 * ```ts
 * checkAdminExposure({ ...config, admin: { enabled: true, port: 9300, host: '0.0.0.0' } })
 * // throws: invalid config: admin.token: required when admin.host is not a loopback address …
 * ```
 */
export function checkAdminExposure(config: ResolvedConfig): ResolvedConfig {
  const { admin } = config
  if (admin.enabled && admin.token === undefined && !isLoopbackHost(admin.host)) {
    throw new ConfigError(
      'admin.token',
      `required when admin.host is not a loopback address (admin.host is ${JSON.stringify(admin.host)}): anyone who can reach it could release quarantines. Set admin.token (e.g. token: process.env.CRASHLESS_ADMIN_TOKEN), or bind admin.host to 127.0.0.1`,
    )
  }
  return config
}

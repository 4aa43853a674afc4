/**
 * The one rule that spans two session options: browsers drop a `SameSite=None` cookie that is
 * not also `Secure`, so such a config would silently lose every session.
 */

import { ConfigError } from '../errors.js'
import type { ResolvedConfig } from './types.js'

/**
 * Returns `config` unchanged, or throws when sessions would use `SameSite=None` without `Secure`.
 *
 * @throws ConfigError naming `session.secure`
 * @example
 * ```ts
 * checkSessionCookie({ ...config, session: { ...config.session, sameSite: 'none', secure: false } })
 * // throws: invalid config: session.secure: must be true when session.sameSite is "none" …
 * ```
 */
export function checkSessionCookie(config: ResolvedConfig): ResolvedConfig {
  const { session } = config
  if (session.enabled && session.sameSite === 'none' && !session.secure) {
    throw new ConfigError('session.secure', 'must be true when session.sameSite is "none": browsers refuse SameSite=None cookies that are not Secure, so every session would be lost')
  }
  return config
}

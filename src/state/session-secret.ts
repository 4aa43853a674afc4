import { randomBytes } from 'node:crypto'
import type { StateBackend } from './backend.js'
import { SESSION_SECRET_KEY } from './key-spaces.js'
import { StateError } from './state-error.js'

/**
 * The key that signs session cookies when the config gives none: read from the store, or made
 * (32 random bytes) and committed there on first start. Kept in the store so that a restart, and
 * every runtime sharing a Redis store, accept the cookies signed before. Two runtimes starting
 * together cannot end up with different keys: the commit only succeeds if the key is still
 * absent, and the loser reads the winner's.
 *
 * Anyone who can read the store can forge cookies with it, as they could read the sessions
 * themselves; set `session.secret` to keep the key elsewhere.
 *
 * @example
 * ```ts
 * const secret = await loadSessionSecret(backend)
 * ```
 */
export async function loadSessionSecret(backend: StateBackend): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const [found] = await backend.get([SESSION_SECRET_KEY])
    if (found) return Buffer.from(found.value.buffer, found.value.byteOffset, found.value.byteLength).toString('utf8')
    const secret = randomBytes(32).toString('base64url')
    const result = await backend.commit([{ key: SESSION_SECRET_KEY, version: 0 }], [{ key: SESSION_SECRET_KEY, value: Buffer.from(secret, 'utf8') }])
    if (result.ok) return secret
  }
  throw new StateError('could not read or create the session secret in the store (it kept changing)')
}

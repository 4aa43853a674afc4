import { CrashlessError } from '../errors.js'

/**
 * A state store failed or was misused: bad keys or TTLs, a closed backend, an unreachable Redis,
 * an unwritable SQLite file. The underlying error is the `cause`.
 *
 * @example
 * ```ts
 * try { await backend.commit([], [{ key: '', value: null }]) }
 * catch (err) { if (hasErrorCode(err, 'CRASHLESS_ERR_STATE')) console.error(err.message) }
 * ```
 */
export class StateError extends CrashlessError {
  override readonly name = 'StateError'

  constructor(message: string, options?: { cause?: unknown }) {
    super('CRASHLESS_ERR_STATE', message, options)
  }
}

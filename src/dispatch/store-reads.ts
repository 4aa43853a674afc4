import { serializeError, type StoreReadMessage, type StoreResultMessage } from '../protocol.js'
import { StateError, type StateBackend, type StoredEntry } from '../state/index.js'

/**
 * Answers one `store-read` from an instance with committed entries, or with the error that kept
 * it from reading. Every read is answered, so the instance never keeps a promise waiting forever.
 *
 * @example
 * ```ts
 * instance.post(await answerStoreRead(backend, msg))
 * ```
 */
export async function answerStoreRead(backend: StateBackend | null, msg: StoreReadMessage): Promise<StoreResultMessage> {
  const { id, seq, op } = msg
  try {
    if (!backend) throw new StateError('no state backend is configured')
    const entries = op.kind === 'get' ? await backend.get(op.keys) : await backend.list(op.prefix, { limit: op.limit, after: op.after })
    return { type: 'store-result', id, seq, entries: entries.map(exact), error: null }
  } catch (err) {
    return { type: 'store-result', id, seq, entries: null, error: serializeError(err) }
  }
}

/**
 * postMessage clones a view's whole ArrayBuffer, not just the view: a value sliced out of a
 * larger buffer (a driver's pool) is copied out first so only its own bytes travel.
 */
function exact(entry: StoredEntry): StoredEntry {
  const { value } = entry
  if (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) return entry
  return { ...entry, value: new Uint8Array(value) }
}

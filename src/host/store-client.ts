import type { MessagePort } from 'node:worker_threads'
import { CrashlessError, type CrashlessErrorCode } from '../errors.js'
import { IdMap } from '../id-map.js'
import type { FromInstance, StoreReadOp, StoreResultMessage } from '../protocol.js'
import type { StoredEntry } from '../state/index.js'

/**
 * The instance's side of store reads: committed data lives with the dispatcher (main thread),
 * so a read is a `store-read` message answered by `store-result`. One client per instance; the
 * per-request Transaction above it records versions and keeps the request's own writes.
 *
 * @example
 * ```ts
 * const client = new StoreClient(port)
 * const entries = await client.read(requestId, { kind: 'get', keys: ['s:visits'] })
 * ```
 */
export class StoreClient {
  private seq = 0
  private readonly pending = new IdMap<{ resolve: (entries: StoredEntry[]) => void; reject: (err: Error) => void }>()

  constructor(private readonly port: MessagePort) {}

  /** Reads committed entries for request `id` (absent keys are left out). */
  read(id: number, op: StoreReadOp): Promise<StoredEntry[]> {
    const seq = ++this.seq
    return new Promise<StoredEntry[]>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject })
      this.port.postMessage({ type: 'store-read', id, seq, op } satisfies FromInstance)
    })
  }

  /** Settles the read a `store-result` answers. */
  receive(msg: StoreResultMessage): void {
    const waiter = this.pending.get(msg.seq)
    if (!waiter) return
    this.pending.delete(msg.seq)
    if (msg.entries) return waiter.resolve(msg.entries)
    const code = (msg.error?.code ?? 'CRASHLESS_ERR_STATE') as CrashlessErrorCode
    waiter.reject(new CrashlessError(code.startsWith('CRASHLESS_ERR_') ? code : 'CRASHLESS_ERR_STATE', msg.error?.message ?? 'the store read failed'))
  }
}

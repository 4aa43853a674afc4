import type { MessagePort } from 'node:worker_threads'
import { CrashlessError, type CrashlessErrorCode } from '../errors.js'
import { IdMap } from '../id-map.js'
import type { FromInstance, StoreReadOp, StoreResultMessage } from '../protocol.js'
import type { StoredEntry } from '../state/index.js'
import { ReadCache, type CachedRead } from './read-cache.js'

interface PendingRead {
  resolve: (entries: StoredEntry[]) => void
  reject: (err: Error) => void
  /** The keys of a `get`, to keep in the cache with the answer; null for a `list`. */
  keys: readonly string[] | null
  /** The cache's invalidation count when the read was sent (see ReadCache.fill). */
  epoch: number
}

/**
 * The instance's side of store reads: committed data lives with the dispatcher (main thread),
 * so a read is a `store-read` message answered by `store-result`, unless the instance's read
 * cache already has every key asked for (see read-cache.ts). One client per instance; the
 * per-request Transaction above it records versions and keeps the request's own writes.
 *
 * @example
 * ```ts
 * const client = new StoreClient(port, 16 * 1024 * 1024)
 * const entries = client.cached(['s:visits']) ?? (await client.read(requestId, { kind: 'get', keys: ['s:visits'] }))
 * ```
 */
export class StoreClient {
  private seq = 0
  private readonly pending = new IdMap<PendingRead>()
  private readonly cache: ReadCache

  constructor(
    private readonly port: MessagePort,
    cacheBytes = 0,
  ) {
    this.cache = new ReadCache(cacheBytes)
  }

  /** Reads sent and not answered yet: a request awaiting one is waiting on something that will happen. */
  get outstanding(): number {
    return this.pending.size
  }

  /** Reads committed entries for request `id` (absent keys are left out). */
  read(id: number, op: StoreReadOp): Promise<StoredEntry[]> {
    const seq = ++this.seq
    return new Promise<StoredEntry[]>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, keys: op.kind === 'get' ? op.keys : null, epoch: this.cache.epoch })
      this.port.postMessage({ type: 'store-read', id, seq, op } satisfies FromInstance)
    })
  }

  /**
   * The committed entries of `keys` from the cache (absent ones left out, as `read` does), or
   * null when any of them is not cached: then all of them are read at once from the dispatcher.
   */
  cached(keys: readonly string[]): StoredEntry[] | null {
    if (!this.cache.enabled) return null
    const now = Date.now()
    const out: StoredEntry[] = []
    for (const key of keys) {
      const hit: CachedRead = this.cache.lookup(key, now)
      if (hit === undefined) return null
      if (hit !== null) out.push(hit)
    }
    return out
  }

  /**
   * Invalidations received so far, or null when the dispatcher sends none (no cache: `redis`,
   * several runtimes on one sqlite file, `state.readCacheMb: 0`). See Transaction's snapshot rule.
   */
  get epoch(): number | null {
    return this.cache.enabled ? this.cache.epoch : null
  }

  /** The dispatcher committed writes to these keys: cached entries of them are stale. */
  invalidate(keys: readonly string[]): void {
    this.cache.invalidate(keys)
  }

  /** Settles the read a `store-result` answers. */
  receive(msg: StoreResultMessage): void {
    const waiter = this.pending.get(msg.seq)
    if (!waiter) return
    this.pending.delete(msg.seq)
    if (msg.entries) {
      if (waiter.keys !== null) this.cache.fill(waiter.keys, msg.entries, waiter.epoch)
      return waiter.resolve(msg.entries)
    }
    const code = (msg.error?.code ?? 'CRASHLESS_ERR_STATE') as CrashlessErrorCode
    waiter.reject(new CrashlessError(code.startsWith('CRASHLESS_ERR_') ? code : 'CRASHLESS_ERR_STATE', msg.error?.message ?? 'the store read failed'))
  }
}

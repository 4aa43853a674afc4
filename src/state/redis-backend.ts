import { randomBytes } from 'node:crypto'
import type { Redis, RedisOptions } from 'ioredis'
import type { CommitResult, ListOptions, ReadVersion, StateBackend, StoredEntry, WriteOp } from './backend.js'
import { checkCommit, checkKeys, checkList } from './commit-input.js'
import { prefixUpperBound } from './key-order.js'
import { COMMIT_SCRIPT, LIST_SCRIPT, type RedisScript } from './redis-scripts.js'
import { StateError } from './state-error.js'

/** Options of the redis backend. */
export interface RedisBackendOptions {
  /** Default `redis://127.0.0.1:6379`. */
  url?: string
  /** Namespace of every key this store writes. Default `crashless:`. */
  prefix?: string
  /**
   * How long a committed id is remembered so a resent commit is not applied twice. Default 60 s,
   * well above ioredis's resend window (it gives up on a command after ~10 s of failed
   * reconnects). Costs one small key per write commit for that long (~6 MB at 1000 commits/s).
   */
  commitRecordTtlMs?: number
  /** Give up connecting after this long. Default 5000 ms. */
  connectTimeoutMs?: number
}

/**
 * A store in Redis, shared by every runtime of a cluster. A commit is one Lua script (see
 * redis-scripts.ts), so it is atomic on the server; it is "durable" once Redis acknowledged it,
 * which means what the server's persistence says: with `appendonly yes` + `appendfsync always`
 * an acknowledged commit survives a Redis crash and power loss; `everysec` (Redis's default for
 * AOF) can lose up to a second of commits if Redis or its host dies; without AOF (RDB snapshots
 * or nothing) a Redis restart loses everything since the last snapshot. Replicas are not waited
 * for (no WAIT): a failover can lose the last acknowledged commits.
 *
 * ioredis resends commands in flight when the connection drops. A resent commit that had been
 * applied would then conflict with itself (or be applied twice), so every commit carries a
 * random id that the script records for `commitRecordTtlMs`: a resend returns the recorded result.
 *
 * @example
 * ```ts
 * const backend = await RedisBackend.connect(Redis, { url: 'redis://10.0.0.5:6379', prefix: 'shop:' })
 * ```
 */
export class RedisBackend implements StateBackend {
  readonly kind = 'redis' as const
  readonly prefix: string
  private readonly recordTtlMs: number
  private closed = false
  private lastError: Error | undefined

  private constructor(private readonly client: Redis, prefix: string, recordTtlMs: number) {
    this.prefix = prefix
    this.recordTtlMs = recordTtlMs
    // Without a listener ioredis prints every connection error; keep the last one for messages.
    client.on('error', (err: Error) => (this.lastError = err))
  }

  /** Connects (rejecting with a StateError if Redis cannot be reached), given ioredis's Redis class. */
  static async connect(RedisClass: typeof Redis, options: RedisBackendOptions = {}): Promise<RedisBackend> {
    const url = options.url ?? 'redis://127.0.0.1:6379'
    const prefix = options.prefix ?? 'crashless:'
    const recordTtlMs = options.commitRecordTtlMs ?? 60_000
    if (!(Number.isSafeInteger(recordTtlMs) && recordTtlMs >= 0)) throw new StateError(`commitRecordTtlMs must be a non-negative integer, got ${String(recordTtlMs)}`)
    // No offline queue: while Redis is unreachable (restarting, failing over) a command fails at
    // once, so a request that needs the store is answered 503 with Retry-After at once instead
    // of waiting ~10 s for ioredis to give up. Commands already sent when the connection dropped
    // are still resent on reconnection (the commit id makes that safe).
    const clientOptions: RedisOptions = { lazyConnect: true, connectTimeout: options.connectTimeoutMs ?? 5000, enableOfflineQueue: false }
    const client = new RedisClass(url, clientOptions)
    const backend = new RedisBackend(client, prefix, recordTtlMs)
    try {
      await client.connect()
    } catch (err) {
      client.disconnect()
      throw new StateError(`cannot connect to the redis state store at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err })
    }
    return backend
  }

  async get(keys: readonly string[]): Promise<StoredEntry[]> {
    this.checkOpen()
    const unique = checkKeys(keys)
    if (unique.length === 0) return []
    return this.guard('get', async () => {
      // One key needs no transaction: HMGET alone is atomic (and one command, not three).
      if (unique.length === 1) {
        const [value, version, expiresAt] = await this.client.hmgetBuffer(this.entryKey(unique[0]!), 'v', 'ver', 'e')
        return value && version ? [{ key: unique[0]!, value, version: Number(version), expiresAt: expiresAt ? Number(expiresAt) : null }] : []
      }
      // MULTI/EXEC: all keys are read at one point in time, even while other clients commit.
      const multi = this.client.multi()
      for (const key of unique) multi.hmgetBuffer(this.entryKey(key), 'v', 'ver', 'e')
      const replies = (await multi.exec()) ?? []
      const found: StoredEntry[] = []
      replies.forEach(([err, reply], i) => {
        if (err) throw err
        const [value, version, expiresAt] = reply as (Buffer | null)[]
        if (value && version) found.push({ key: unique[i]!, value: value, version: Number(version), expiresAt: expiresAt ? Number(expiresAt) : null })
      })
      return found
    })
  }

  async list(prefix: string, options?: ListOptions): Promise<StoredEntry[]> {
    this.checkOpen()
    const limit = checkList(prefix, options)
    const prefixBytes = Buffer.from(prefix)
    const after = options?.after === undefined ? undefined : Buffer.from(options.after)
    const min = after && Buffer.compare(after, prefixBytes) >= 0 ? lex('(', after) : lex('[', prefixBytes)
    const upper = prefixUpperBound(prefixBytes)
    const max = upper ? lex('(', upper) : '+'
    return this.guard('list', async () => {
      const args = [this.entryPrefix(), min, max, limit === Infinity ? -1 : limit]
      const flat = (await this.run(LIST_SCRIPT, [this.key('index'), this.key('expiry')], args, true)) as (Buffer | null)[]
      const entries: StoredEntry[] = []
      for (let i = 0; i < flat.length; i += 4) {
        const expiresAt = flat[i + 3]
        entries.push({ key: flat[i]!.toString('utf8'), value: flat[i + 1]!, version: Number(flat[i + 2]), expiresAt: expiresAt ? Number(expiresAt) : null })
      }
      return entries
    })
  }

  async commit(reads: readonly ReadVersion[], writes: readonly WriteOp[]): Promise<CommitResult> {
    this.checkOpen()
    const checked = checkCommit(reads, writes)
    const id = randomBytes(12).toString('base64url')
    const keys = [this.key('version'), this.key('index'), this.key('expiry'), this.key(`commit:${id}`)]
    const args: (string | Buffer | number)[] = [this.entryPrefix(), reads.length, checked.length, checked.length > 0 ? this.recordTtlMs : 0]
    for (const read of reads) {
      keys.push(this.entryKey(read.key))
      args.push(read.version)
    }
    for (const write of checked) {
      keys.push(this.entryKey(write.key))
      args.push(write.key, write.value === null ? 'd' : 's', write.value ?? '', write.ttlMs ?? 0)
    }
    return this.guard('commit', async () => {
      const reply = (await this.run(COMMIT_SCRIPT, keys, args, false)) as number[]
      if (reply[0] === 1) return { ok: true, version: reply[1]! }
      const conflicts = new Set(reply.slice(1).map((index) => reads[index - 1]!.key))
      return { ok: false, conflicts: [...conflicts] }
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      // QUIT is queued after the commands in flight, so their replies still arrive.
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }

  /** EVALSHA, and EVAL when Redis does not know the script (first use, restart, SCRIPT FLUSH). */
  private async run(script: RedisScript, keys: string[], args: (string | Buffer | number)[], buffers: boolean): Promise<unknown> {
    const call = (command: string, first: string) =>
      buffers ? this.client.callBuffer(command, [first, keys.length, ...keys, ...args]) : this.client.call(command, [first, keys.length, ...keys, ...args])
    try {
      return await call('EVALSHA', script.sha)
    } catch (err) {
      if (!(err as Error).message?.startsWith('NOSCRIPT')) throw err
      return await call('EVAL', script.lua)
    }
  }

  private async guard<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (err) {
      const detail = this.lastError && this.lastError !== err ? ` (last connection error: ${this.lastError.message})` : ''
      throw new StateError(`redis ${what} failed: ${(err as Error).message}${detail}`, { cause: err })
    }
  }

  private key(name: string): string {
    return this.prefix + name
  }

  private entryPrefix(): string {
    return this.prefix + 'k:'
  }

  private entryKey(key: string): string {
    return this.prefix + 'k:' + key
  }

  private checkOpen(): void {
    if (this.closed) throw new StateError('the redis state store is closed')
  }
}

function lex(mark: '(' | '[', bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(mark), bytes])
}

/** The URL without its password, for error messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

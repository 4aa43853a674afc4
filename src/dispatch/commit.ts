import type { Logger } from 'pino'
import type { StoreReadMessage, TransactionPayload } from '../protocol.js'
import type { CommitResult, StateBackend, WriteOp } from '../state/index.js'
import type { Instance } from '../supervise/index.js'
import { ConflictLanes } from './conflict-lanes.js'
import type { Job } from './job.js'
import { answerStoreRead } from './store-reads.js'
import { storeSeconds } from '../metrics/index.js'

/** What became of a request's transaction. */
export type CommitOutcome =
  /** Durable: the response may go out. */
  | { kind: 'committed' }
  /** What it read changed: nothing was applied; run the request again. */
  | { kind: 'conflict'; key: string }
  /** It conflicted more than `maxCommitRetries` times: answer 503 CRASHLESS_ERR_CONFLICT. */
  | { kind: 'gave-up'; conflicts: number }
  /** The store failed: answer 503 CRASHLESS_ERR_STATE. */
  | { kind: 'failed' }
  /** Another request with the same idempotency key committed first: answer with its record. */
  | { kind: 'duplicate' }

/** Counters since start, for logs, metrics and tests. */
export interface CommitStats {
  commits: number
  conflicts: number
  gaveUp: number
  failures: number
}

/**
 * The dispatcher's side of per-request transactions: serves store reads to instances, commits
 * the transaction a response carries before the response goes out (output commit), and decides
 * what a conflict means. Re-runs after conflicts take turns per key (see conflict-lanes.ts).
 *
 * A request that fails, crashes or loses its instance never reaches here: its response, and so
 * its write set, is never sent, and nothing of it is applied.
 *
 * @example
 * ```ts
 * const committer = new Committer(backend, config.state.maxCommitRetries, log)
 * const outcome = await committer.commit(job, msg.tx)
 * if (outcome.kind === 'committed') writeResponse()
 * ```
 */
export class Committer {
  private readonly lanes = new ConflictLanes()
  private readonly counters: CommitStats = { commits: 0, conflicts: 0, gaveUp: 0, failures: 0 }

  /**
   * @param onCommitted told the keys of every commit once it is durable, before the response
   *   goes out: the instances' read caches forget them (see host/read-cache.ts)
   */
  constructor(
    private readonly backend: StateBackend | null,
    private readonly maxRetries: number,
    private readonly log: Logger,
    private readonly onCommitted: ((keys: string[]) => void) | null = null,
  ) {}

  stats(): CommitStats {
    return { ...this.counters }
  }

  /**
   * Answers a `store-read`, whichever attempt of whichever request sent it: reads have no
   * effects, and a request's code may still read after its response went (those reads are
   * simply not validated), so refusing them would only turn harmless code into errors.
   * `onFailed` hears of a read the store failed, by protocol id.
   */
  read(instance: Instance, msg: StoreReadMessage, onFailed: (id: number) => void): void {
    const startedAt = performance.now()
    void answerStoreRead(this.backend, msg).then((answer) => {
      storeSeconds.read.observe((performance.now() - startedAt) / 1000)
      // Before the answer: the app's reaction to the failed read must find the job marked.
      if (answer.error) onFailed(msg.id)
      instance.post(answer)
    })
  }

  /**
   * Validates and applies the transaction; resolves once it is durable, or says why not.
   * `record` (an idempotency record) is written in the same commit, on condition that no record
   * of its key exists yet: of two requests with one key, only one ever commits.
   */
  async commit(job: Job, tx: TransactionPayload, record?: WriteOp): Promise<CommitOutcome> {
    // A key a re-run is working on is not written under it (see ConflictLanes.heldBy).
    const held = this.lanes.heldBy(tx.writes, job)
    const reads = record ? [...tx.reads, { key: record.key, version: 0 }] : tx.reads
    const writes = record ? [...tx.writes, record] : tx.writes
    let result: CommitResult
    try {
      if (!this.backend) throw new Error('no state backend is configured')
      const startedAt = performance.now()
      result = held === null ? await this.backend.commit(reads, writes) : { ok: false, conflicts: [held] }
      if (held === null) storeSeconds.commit.observe((performance.now() - startedAt) / 1000)
    } catch (err) {
      this.counters.failures++
      this.log.error({ event: 'commit-failed', requestId: job.requestId, method: job.method, url: job.url, writes: tx.writes.length, err }, 'the state store failed to commit a request; answered 503')
      return { kind: 'failed' }
    }
    if (result.ok) {
      this.counters.commits++
      if (this.onCommitted !== null && tx.writes.length > 0) this.onCommitted(tx.writes.map((write) => write.key))
      // A re-run holds its key only until it commits: its response (a long stream, say) must
      // not keep others from writing it.
      this.release(job)
      return { kind: 'committed' }
    }
    if (record && result.conflicts.includes(record.key)) {
      this.log.info({ event: 'idempotency-duplicate', requestId: job.requestId, method: job.method, url: job.url }, 'another request with the same idempotency key committed first; answering with its response')
      return { kind: 'duplicate' }
    }
    this.counters.conflicts++
    job.conflicts++
    const gaveUp = job.conflicts > this.maxRetries
    const details = {
      event: 'commit-conflict',
      requestId: job.requestId,
      method: job.method,
      url: job.url,
      keys: result.conflicts.slice(0, 5),
      reason: held === null ? 'a key it read changed' : 'a key it writes is held by a re-run',
      conflicts: job.conflicts,
      action: gaveUp ? 'gave up: answered 503' : 're-run',
    }
    if (gaveUp) {
      this.counters.gaveUp++
      this.log.warn(details, 'what the request read kept changing; gave up')
      return { kind: 'gave-up', conflicts: job.conflicts }
    }
    this.log.info(details, 'the request conflicted with another before it committed; re-running it')
    return { kind: 'conflict', key: result.conflicts[0]! }
  }

  /** Runs `job` again after a conflict on `key`, when the re-runs before it on that key are done. */
  rerun(job: Job, key: string, run: () => void): void {
    this.lanes.enter(job, key, run)
  }

  /** The job is finished (answered or failed): the next re-run on its key may go. */
  release(job: Job): void {
    if (job.lane !== null) this.lanes.release(job)
  }
}

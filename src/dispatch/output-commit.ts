import type { HeadMessage, ResponseHeaders, ResponseMessage, TransactionPayload, FromInstance } from '../protocol.js'
import type { Instance } from '../supervise/index.js'
import type { Committer } from './commit.js'
import type { Idempotency } from './idempotency.js'
import type { Job } from './job.js'
import { respondError } from './respond-error.js'
import type { SessionCookies } from './session-cookies.js'

/** What a response commits when only its idempotency record is to be written. */
const NO_TX: TransactionPayload = { reads: [], writes: [] }

/** What the output commit needs from the dispatcher. */
export interface OutputCommitHost {
  /** Sends a whole response (head and body) to the client. */
  respond(job: Job, msg: ResponseMessage): void
  /** Writes a response head; false when the app's head was invalid (the job is answered 502). */
  writeHead(job: Job, status: number, statusMessage: string | undefined, headers: ResponseHeaders): boolean
  /** Relays a streamed response's message that waited for its head's commit. */
  relay(instance: Instance, msg: FromInstance): void
  /** The job no longer occupies its instance. */
  detach(job: Job): void
  /** Ends a job's bookkeeping (the caller answers the client). */
  finish(job: Job): void
  /** Sends a job to an instance now, or queues it. */
  dispatch(job: Job): void
  /** Checks a keyed job's idempotency record again and answers or runs it accordingly. */
  recheck(job: Job): void
  /** Gives a job a new protocol id, so its earlier attempt's messages find no job. */
  renumber(job: Job): void
}

/**
 * The dispatcher's side of output commit (DESIGN.md, request lifecycle step 5): a response
 * carrying its request's transaction (or an idempotency record) goes to the client only once
 * that is durable (commit.ts); a conflict re-runs the request, which had no effects.
 *
 * @example
 * ```ts
 * const output = new OutputCommit(committer, sessions, idempotency, host)
 * if (msg.tx) output.commitFirst(job, instance, msg, msg.tx) // the response waits for the commit
 * ```
 */
export class OutputCommit {
  constructor(
    private readonly commits: Committer,
    private readonly sessions: SessionCookies | null,
    private readonly idempotency: Idempotency | null,
    private readonly host: OutputCommitHost,
  ) {}

  /**
   * Output commit: a response carrying the request's transaction goes out only once that is
   * durable. A conflict (what it read changed) means it had no effects: it runs again. A whole
   * response leaves its instance at once, so neither the instance's loss nor a later crash there
   * concerns it any more; a streamed one keeps its instance, its chunks held until the head goes.
   * The session cookie and the idempotency record (the response itself) go with the same commit.
   */
  commitFirst(job: Job, instance: Instance, msg: ResponseMessage | HeadMessage, tx: TransactionPayload | undefined): void {
    if (tx?.session && this.sessions) this.sessions.addTo(msg.headers, tx.session)
    const record = job.idempotency ? this.idempotency!.record(job, msg.status, msg.statusMessage, msg.headers, msg.type === 'response' ? msg.body : null, msg.type === 'head') : undefined
    if (msg.type === 'response') this.host.detach(job)
    else {
      // From here the request cannot be re-served, only re-run after a conflict.
      job.started = true
      job.held = []
    }
    void this.commits.commit(job, tx ?? NO_TX, record).then((outcome) => {
      if (job.done) return
      if (outcome.kind === 'committed') {
        if (msg.type === 'response') return this.host.respond(job, msg)
        const held = job.held ?? []
        job.held = null
        if (this.host.writeHead(job, msg.status, msg.statusMessage, msg.headers)) for (const next of held) this.host.relay(instance, next)
        return
      }
      if (outcome.kind === 'conflict') return this.rerun(job, outcome.key)
      if (outcome.kind === 'duplicate') {
        // Another request with this key committed while this one ran: its response is the answer.
        if (job.instance) {
          job.instance.post({ type: 'abort', id: job.id })
          this.host.detach(job)
        }
        job.started = false
        job.held = null
        return this.host.recheck(job)
      }
      job.instance?.post({ type: 'abort', id: job.id })
      this.host.finish(job)
      if (outcome.kind === 'gave-up') {
        respondError(job.res, 503, 'CRASHLESS_ERR_CONFLICT', `what the request read kept changing while it ran (${outcome.conflicts} conflicts); nothing was applied; retry`, job.requestId, { 'retry-after': '1' })
      } else {
        respondError(job.res, 503, 'CRASHLESS_ERR_STATE', 'the state store failed to commit the request\'s writes; retry', job.requestId, { 'retry-after': '1' })
      }
    })
  }

  /**
   * Runs a request again after a commit conflict, under a new protocol id so that whatever its
   * earlier attempt still sends (chunks, store reads) finds no job. Re-runs on one key take turns.
   */
  private rerun(job: Job, key: string): void {
    if (job.instance) {
      job.instance.post({ type: 'abort', id: job.id })
      this.host.detach(job)
    }
    this.host.renumber(job)
    job.started = false
    job.held = null
    // A conflict is no failure: it must not use up the attempts kept for lost instances.
    job.attempts--
    this.commits.rerun(job, key, () => {
      if (!job.done) this.host.dispatch(job)
    })
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { readCacheBytes, type ResolvedConfig } from '../config/index.js'
import type { FromInstance, ResponseHeaders, ResponseMessage, ToInstance } from '../protocol.js'
import type { ImmunityTable } from '../immunity/index.js'
import type { IncidentStore } from '../incidents/index.js'
import type { StateBackend } from '../state/index.js'
import type { Instance, InstanceLoss, Pool } from '../supervise/index.js'
import { IdMap } from '../id-map.js'
import { limitsOf } from '../recovery/index.js'
import { recordResponse, requestMeter, tallies, type RequestMeter } from '../metrics/index.js'
import { InstanceFailures } from './instance-failures.js'
import { Committer } from './commit.js'
import { Idempotency, type KeyedRequest, type KeyedVerdict } from './idempotency.js'
import { createJob, requestMessageOf, type Job, type JobsView } from './job.js'
import { JobQueue } from './job-queue.js'
import { OutputCommit } from './output-commit.js'
import { PoisonGuard, type GuardHost } from './poison-guard.js'
import type { RuntimeDeaths } from './runtime-deaths.js'
import { isReplayable } from './replayable.js'
import { respondError } from './respond-error.js'
import { SacrificialQueue } from './sacrificial-queue.js'
import { SessionCookies } from './session-cookies.js'
import { StallWatch } from './stall-watch.js'
import { takeBackUnstarted } from './take-back.js'
import { addContentLength, writeResponseHead } from './write-response.js'
import { DeadlineQueue } from './deadline-queue.js'

/** The parts one runtime's dispatchers share: commits (their conflict lanes), idempotency claims, the immunity table. */
export interface DispatcherShared {
  readonly commits: Committer
  readonly idempotency: Idempotency | null
  readonly immunity: ImmunityTable
}

/**
 * Routes requests to instances, keeps the in-flight table, enforces deadlines, relays responses
 * (after their output commit, output-commit.ts), and hands failures to instance-failures.ts and
 * poison to poison-guard.ts.
 */
export class Dispatcher {
  /** The in-flight table (an IdMap, not a Map: see id-map.ts). */
  private readonly jobs = new IdMap<Job>()
  /** Every request's `timeouts.requestMs` deadline, with one timer (see deadline-queue.ts). */
  private readonly deadlines: DeadlineQueue
  private readonly queue: JobQueue
  /** Jobs waiting for a sacrificial instance (see sacrificial-queue.ts). */
  private readonly sacrificial: SacrificialQueue
  private nextId = 1
  private readonly bootId = Math.random().toString(36).slice(2, 8)
  private pool: Pool | null = null
  private closing = false
  /** Quarantine, suspects and evacuation of stalled instances (see poison-guard.ts). */
  private readonly guard: PoisonGuard
  /** Suppressed crashes and lost instances (see instance-failures.ts). */
  private readonly failures: InstanceFailures
  /** Stall detection's dispatcher side: limits learned per route, suspicions (see stall-watch.ts). */
  readonly stalls: StallWatch
  /** Store reads and the commit of per-request transactions (see commit.ts). */
  readonly commits: Committer
  /** Responses go out only once their transaction is durable (see output-commit.ts). */
  private readonly output: OutputCommit
  /** Cookie sessions (see session-cookies.ts); null when they are off. */
  private readonly sessions: SessionCookies | null
  /** Requests with an idempotency key (see idempotency.ts); null without a store. */
  private readonly idempotency: Idempotency | null
  /** Its component's request counts, taken once here so counting a request looks nothing up. */
  private readonly meter: RequestMeter

  /** Where this dispatcher's failures are written (its component's app, for replay). */
  get incidents(): IncidentStore {
    return this.guard.incidents
  }

  constructor(
    private readonly config: ResolvedConfig,
    private readonly log: Logger,
    backend: StateBackend | null = null,
    /** Keys verifying session cookies, the first one signing (needed when sessions are on). */
    sessionSecrets: readonly string[] | null = null,
    /** What the dispatchers of several components share (see src/components): one of each for all. */
    shared: DispatcherShared | null = null,
    /** Its component's name: its requests are counted under it (the metrics' `component` label). */
    component = 'default',
  ) {
    this.meter = requestMeter(component)
    const caching = backend !== null && readCacheBytes(config) > 0
    // Shared, its commits invalidate the caches of every component's instances (see src/components).
    this.commits = shared?.commits ?? new Committer(backend, config.state.maxCommitRetries, log, caching ? (keys) => this.invalidate(keys) : null)
    this.sessions = config.session.enabled && sessionSecrets ? new SessionCookies(config.session, sessionSecrets) : null
    this.idempotency = shared ? shared.idempotency : backend ? new Idempotency(backend, config.replay, log) : null
    this.queue = new JobQueue(config.limits.queue)
    const host: GuardHost = {
      jobs: this.jobs,
      finish: (job) => this.finish(job),
      dispatch: (job) => this.dispatch(job),
      place: (job) => this.sacrificial.place(job),
      requeue: (job) => this.queue.pushFront(job),
      track: (job) => this.track(job),
      setDeadline: (job, ms) => this.setDeadline(job, ms),
      detach: (job) => this.detach(job),
      pump: () => this.pump(),
    }
    this.output = new OutputCommit(this.commits, this.sessions, this.idempotency, {
      ...host,
      respond: (job, msg) => this.respond(job, msg),
      writeHead: (job, status, statusMessage, headers) => this.writeHead(job, status, statusMessage, headers),
      relay: (instance, msg) => this.handleMessage(instance, msg),
      recheck: (job) => void this.idempotency!.check(job).then((verdict) => this.settleKeyed(job, verdict)),
      renumber: (job) => {
        this.jobs.delete(job.id)
        job.id = this.nextId++
        this.jobs.set(job.id, job)
      },
    })
    this.sacrificial = new SacrificialQueue(
      {
        pool: () => this.pool!,
        // Screened again: a verdict may have come while it waited for its instance to start.
        send: (job, instance) => this.send(job, instance),
        setDeadline: (job, ms) => this.setDeadline(job, ms),
        finish: (job) => this.finish(job),
      },
      config.recovery.queue,
      config.timeouts.startMs,
      config.timeouts.leaseMs / 2,
    )
    this.guard = new PoisonGuard(config, log, host, shared?.immunity ?? null)
    this.deadlines = new DeadlineQueue(
      config.timeouts.requestMs,
      (id) => this.jobs.get(id)?.deadlineAt ?? 0,
      (id) => {
        const job = this.jobs.get(id)!
        job.deadlineAt = 0
        this.expire(job)
      },
    )
    this.stalls = new StallWatch(this.jobs, config.timeouts.leaseMs, this.guard, log)
    this.failures = new InstanceFailures(host, this.guard, () => this.pool!, log, config.timeouts.requestMs, limitsOf(config))
  }

  /** The immunity table (persisted and served by the control plane). */
  get immunity(): ImmunityTable {
    return this.guard.immunity
  }

  /** Under a keeper, once promoted: what it learned from earlier runtime deaths (issue 10.3). */
  adoptRuntimeDeaths(deaths: RuntimeDeaths, onCleared: (records: string[]) => void): void {
    this.guard.adoptRuntimeDeaths(deaths, onCleared)
  }

  /**
   * An instance takes no new work (tainted, or rejuvenated): the requests it has not started go
   * to the front of the queue, to run elsewhere — a leaking instance must not grow any further on
   * requests it has not begun.
   */
  moveUnstarted(instance: Instance): void {
    const moved = takeBackUnstarted(instance, this.jobs)
    for (const job of moved.reverse()) this.queue.pushFront(job)
    if (moved.length > 0) this.pump()
  }

  /** The in-flight table, read-only (what an instance answered, for src/components). */
  get table(): JobsView {
    return this.jobs
  }

  /**
   * `instance` was ejected for its bad answers (src/components/bad-answers.ts): its answer to
   * request `id` is dropped and the request runs again elsewhere, as nginx's `proxy_next_upstream
   * http_500` would, if nothing of the answer went out and it may run again. False when the
   * answer must go out as it is.
   */
  reserveAnswer(instance: Instance, id: number): boolean {
    const job = this.jobs.get(id)
    if (!job || job.done || job.instance !== instance || job.started || job.held || !job.replayable) return false
    instance.post({ type: 'abort', id: job.id })
    this.detach(job)
    tallies.reserved++
    this.log.info({ event: 'answer-reserved', requestId: job.requestId, instance: instance.id, method: job.method, url: job.url }, 'a 5xx answer of an ejected instance was dropped; the request runs again elsewhere')
    this.dispatch(job)
    return true
  }

  /** An instance died: its requests are re-served or answered (see instance-failures.ts). */
  handleLost(instance: Instance, loss: InstanceLoss, swapMs: number): void {
    this.failures.lost(instance, loss, swapMs)
  }

  attach(pool: Pool): void {
    this.pool = pool
  }

  /** Requests accepted and not yet answered (queued or running). */
  get pending(): number {
    return this.jobs.size
  }

  /** Requests waiting for an instance (ordinary or sacrificial), for metrics. */
  get queued(): number {
    return this.queue.size + this.sacrificial.size
  }

  /** After this, responses ask clients to close their connection. */
  beginClosing(): void {
    this.closing = true
  }

  /** Accepts one request whose body (if any) has been read. */
  submit(req: IncomingMessage, res: ServerResponse, body: SharedArrayBuffer | null): void {
    const id = this.nextId++
    const method = req.method ?? 'GET'
    const job = createJob({
      id,
      requestId: `${this.bootId}-${id}`,
      method,
      url: req.url ?? '/',
      rawHeaders: req.rawHeaders,
      body,
      remoteAddress: req.socket.remoteAddress ?? '',
      remotePort: req.socket.remotePort ?? 0,
      res,
      replayable: isReplayable(method, req.rawHeaders, this.config.replay),
      sessionId: this.sessions?.sessionOf(req.rawHeaders) ?? null,
    })
    const keyed = this.idempotency?.keyOf(method, job.url, req.rawHeaders, body, job.sessionId) ?? null
    if (keyed !== null) return this.submitKeyed(job, keyed)
    this.admit(job)
  }

  /** Runs a job, queues it, holds it or refuses it; a keyed job arrives here already tracked. */
  private admit(job: Job): void {
    const tracked = this.jobs.has(job.id)
    if (this.guard.stops(job, tracked)) return
    if (job.env) {
      if (!tracked) this.track(job)
      return this.sacrificial.place(job)
    }
    const instance = this.pool!.pick()
    if (!instance && !this.queue.push(job)) {
      if (tracked) this.finish(job)
      respondError(job.res, 503, 'CRASHLESS_ERR_OVERLOADED', 'the server is overloaded; retry later', job.requestId, { 'retry-after': '1' })
      return
    }
    if (!tracked) this.track(job)
    if (instance) this.send(job, instance, true)
  }

  /**
   * A request with an idempotency key: if it already committed, its client gets the recorded
   * response and the app does not run; while it runs, the same key is refused with 409.
   */
  private submitKeyed(job: Job, keyed: KeyedRequest | 'bad'): void {
    if (keyed === 'bad') {
      return respondError(job.res, 400, 'CRASHLESS_ERR_BAD_REQUEST', `the ${this.config.replay.idempotencyKeyHeader} header must have 1 to 512 characters`, job.requestId)
    }
    job.idempotency = keyed
    if (!this.idempotency!.claim(job)) {
      return respondError(job.res, 409, 'CRASHLESS_ERR_IN_PROGRESS', 'a request with this idempotency key is still being processed; retry once it has completed', job.requestId, { 'retry-after': '1' })
    }
    this.track(job)
    void this.idempotency!.check(job).then((verdict) => this.settleKeyed(job, verdict))
  }

  private settleKeyed(job: Job, verdict: KeyedVerdict): void {
    if (job.done) return
    if (verdict.kind === 'run') return this.admit(job)
    if (verdict.kind === 'replay') return this.respond(job, verdict.response)
    this.finish(job)
    // A store that failed the lookup may be back in a moment: say when to retry.
    respondError(job.res, verdict.status, verdict.code, verdict.message, job.requestId, verdict.status === 503 ? { 'retry-after': '1' } : undefined)
  }

  /** Puts a job in the in-flight table with its deadline and client-gone watch. */
  private track(job: Job): void {
    this.jobs.set(job.id, job)
    job.deadlineAt = this.deadlines.add(job.id)
    job.res.on('close', () => {
      if (!job.done) this.abandon(job)
      recordResponse(this.meter, job.res, job.receivedAt)
    })
  }

  /** Gives a job a deadline of its own (a ladder run's), in place of the usual one. */
  private setDeadline(job: Job, ms: number): void {
    job.deadlineAt = 0
    if (job.deadline) clearTimeout(job.deadline)
    job.deadline = setTimeout(() => this.expire(job), ms)
  }

  /** Sends a job to an instance now, or queues it (re-admitted jobs bypass the queue bound). */
  private dispatch(job: Job): void {
    // A ladder run re-served after its instance died is refused if its signature was judged meanwhile.
    if (job.env) return void (this.guard.stops(job, true) || this.sacrificial.place(job))
    const instance = this.pool!.pick()
    if (instance) this.send(job, instance)
    else this.queue.pushFront(job)
  }

  /** Dispatches queued requests to instances with room. */
  pump(): void {
    let instance: Instance | null
    while (this.queue.size > 0 && (instance = this.pool!.pick())) {
      const job = this.queue.shift()!
      if (!job.done) this.send(job, instance)
    }
    if (this.sacrificial.size > 0) this.sacrificial.pump()
  }

  handleMessage(instance: Instance, msg: FromInstance): void {
    if (msg.type === 'socket-data' || msg.type === 'socket-close' || msg.type === 'ready' || msg.type === 'start-failed' || msg.type === 'fatal') return
    if (msg.type === 'request-crashed') return this.failures.crashed(instance, msg)
    if (msg.type === 'aborted') return this.failures.aborted(instance, msg)
    if (msg.type === 'quiet') return this.failures.quiet(instance, msg.ids)
    if (msg.type === 'store-read') return this.commits.read(instance, msg, this.markStoreFailed)
    const job = this.jobs.get(msg.id)
    // A late message from an attempt that was abandoned or moved elsewhere.
    if (!job || job.instance !== instance) return
    // A streamed response whose head is committing: the body waits for the head.
    if (job.held && (msg.type === 'chunk' || msg.type === 'end')) return void job.held.push(msg)
    const res = job.res
    switch (msg.type) {
      case 'response':
        if (msg.tx || (job.idempotency && msg.status < 500)) return this.output.commitFirst(job, instance, msg, msg.tx)
        if (job.storeFailed && msg.status >= 500) return this.storeUnavailable(job)
        return this.respond(job, msg)
      case 'head':
        if (msg.tx || (job.idempotency && msg.status < 500)) return this.output.commitFirst(job, instance, msg, msg.tx)
        if (job.storeFailed && msg.status >= 500) return this.storeUnavailable(job)
        if (this.writeHead(job, msg.status, msg.statusMessage, msg.headers)) job.started = true
        return
      case 'chunk':
        res.write(Buffer.from(msg.data))
        return
      case 'end':
        if (msg.trailers) res.addTrailers(msg.trailers)
        res.end()
        return this.complete(job)
      case 'request-failed':
        if (job.storeFailed) return this.storeUnavailable(job)
        this.log.warn({ event: 'request-failed', requestId: job.requestId, instance: instance.id, method: job.method, url: job.url, error: msg.error }, 'the handler failed; only this request fails')
        this.finish(job)
        respondError(res, 500, 'CRASHLESS_ERR_HANDLER', 'the request handler failed', job.requestId)
    }
  }

  private readonly markStoreFailed = (id: number): void => {
    const job = this.jobs.get(id)
    if (job) job.storeFailed = true
  }

  /**
   * A request failed after a store read failed (Redis restarting, unreachable): the store is to
   * blame, not the request, so its client is told to come back (503, Retry-After) rather than
   * given the app's 500, and nothing counts against its signature.
   */
  private storeUnavailable(job: Job): void {
    this.log.warn({ event: 'store-unavailable', requestId: job.requestId, method: job.method, url: job.url }, 'a store read failed and then the request: answered 503')
    job.instance?.post({ type: 'abort', id: job.id })
    this.finish(job)
    respondError(job.res, 503, 'CRASHLESS_ERR_STATE', 'the state store is unavailable; retry', job.requestId, { 'retry-after': '1' })
  }

  private respond(job: Job, msg: ResponseMessage): void {
    addContentLength(job.method, msg)
    if (this.writeHead(job, msg.status, msg.statusMessage, msg.headers)) {
      job.res.end(msg.body ? bufferOf(msg.body) : undefined)
      this.complete(job)
    }
  }

  /** The app's answer went out in full (a ladder run that did so cures its signature). */
  private complete(job: Job): void {
    this.finish(job)
    this.guard.succeeded(job)
  }

  private send(job: Job, instance: Instance, screened = false): void {
    if (!screened && this.guard.stops(job, true)) return
    // The screening may have given it an environment (a cure, a bulkheaded route): not here, then.
    if (job.env && instance.role !== 'sacrificial') return this.sacrificial.place(job)
    job.attempts++
    job.instance = instance
    instance.inflight.add(job.id)
    instance.served++
    if (job.env?.exclusive) instance.exclusive = true
    if (job.env?.group && instance.group === null) instance.group = job.env.group
    if (job.env) this.log.debug({ event: 'sacrificial-run', requestId: job.requestId, instance: instance.id, environment: job.env.tweak }, 'running on a sacrificial instance')
    job.seq = instance.postRequest(requestMessageOf(job))
  }

  private writeHead(job: Job, status: number, statusMessage: string | undefined, headers: ResponseHeaders): boolean {
    try {
      writeResponseHead(job.res, status, statusMessage, headers, this.closing)
      return true
    } catch (err) {
      this.log.warn({ event: 'bad-response', requestId: job.requestId, err }, 'the app produced an invalid response head')
      this.finish(job)
      respondError(job.res, 502, 'CRASHLESS_ERR_HANDLER', 'the app produced an invalid response', job.requestId)
      return false
    }
  }

  private finish(job: Job): void {
    job.done = true
    job.deadlineAt = 0
    if (job.deadline) clearTimeout(job.deadline)
    this.guard.finished(job)
    this.jobs.delete(job.id)
    this.deadlines.trim()
    this.commits.release(job)
    this.idempotency?.release(job)
    if (job.instance) {
      this.detach(job)
    } else {
      // Still queued (client gone, deadline passed): give its place back.
      this.queue.remove(job)
      if (job.env) this.sacrificial.remove(job)
    }
  }

  /** The job no longer occupies its instance (answered, committing, or moving elsewhere). */
  private detach(job: Job): void {
    const instance = job.instance!
    instance.inflight.delete(job.id)
    job.instance = null
    if (instance.inflight.size === 0) {
      instance.exclusive = false
      instance.idleSince = performance.now()
      if (instance.state === 'tainted') this.pool!.retire(instance)
    }
    this.pump()
  }

  /** Every instance's read cache forgets keys a commit wrote (messages arrive before any later request). */
  private invalidate(keys: string[]): void {
    const message: ToInstance = { type: 'store-invalidate', keys }
    for (const { instance } of this.pool!.roster()) instance.post(message)
  }

  /** A request outlived its deadline (see instance-failures.ts). */
  private expire(job: Job): void {
    if (!job.done) this.failures.deadline(job)
  }

  /** The client went away before the response was complete. */
  private abandon(job: Job): void {
    job.instance?.post({ type: 'abort', id: job.id })
    // A sacrificial instance may still be running it (a loop does not stop for an abort): it
    // must not look idle to the next exclusive run, so it is retired.
    if (job.instance?.role === 'sacrificial') this.pool!.taint(job.instance)
    this.guard.abandoned(job)
    this.finish(job)
  }
}

/** A Buffer over the same bytes (Buffer.from of a Uint8Array would copy them). */
function bufferOf(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
}

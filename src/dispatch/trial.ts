import { createIncidentId, type Incident, type IncidentDraft, type IncidentError, type IncidentStep, type NeighbourDraft } from '../incidents/index.js'
import { routeOf, type Environment, type FailureKind, type Tweak } from '../immunity/index.js'
import type { Tape } from '../tape.js'
import type { Job, JobsView } from './job.js'

/** How one run of a request failed. */
export interface RunFailure {
  /** A suppressed crash's kind, a loss reason, or `deadline`. */
  how: string
  /** The error, with its stack when the instance sent one. */
  error: { name: string; message: string; code?: string | undefined; stack?: string | undefined } | null
  instance: { id: string } | null
  /** True when the failure cost the instance (lost, or retired after a suppressed crash). */
  spent: boolean
  /** What a recording (sacrificial) instance taped of the run, sent with its failure. */
  tape?: Tape | undefined
  /** Requests in flight beside it on its instance when it failed. */
  neighbours?: NeighbourDraft[] | undefined
}

/**
 * The requests in flight beside `job` on one instance (`ids`), as an incident names them.
 *
 * @example
 * ```ts
 * const failure = { how: 'crash:uncaughtException', error, instance, spent: true, neighbours: neighboursOf(job, instance.inflight, jobs) }
 * ```
 */
export function neighboursOf(job: Job | null, ids: Iterable<number>, jobs: Pick<JobsView, 'get'>): NeighbourDraft[] {
  const out: NeighbourDraft[] = []
  for (const id of ids) {
    const other = jobs.get(id)
    if (other && other !== job && out.length < 20) out.push({ requestId: other.requestId, method: other.method, url: other.url, rawHeaders: other.rawHeaders, body: other.body })
  }
  return out
}

/**
 * A signature on trial: it failed, and until the ladder finds a cure or gives its verdict, its
 * requests are held back. Rungs are run one after another; a rung is the probe (the request
 * that failed last) plus, for `fresh`, the held requests like it, run beside it as they would
 * be normally (so a race among them shows).
 */
export interface Trial {
  readonly signature: string
  /** The signature's route (method and path), for keeping its other requests apart meanwhile. */
  readonly route: string
  /** The first failure's kind decides which tweaks are worth trying. */
  readonly kind: FailureKind
  readonly tried: Tweak[]
  /** Increments with every rung started; runs carry the rung they belong to. */
  rung: number
  /** A run of the current rung failed: the rung is over, later results of it do not count. */
  rungFailed: boolean
  /** Runs of the current rung still going. */
  readonly running: Set<Job>
  /** The current rung's environment. */
  env: Environment | null
  /**
   * The rung's run whose client left while it still ran on a sacrificial instance: the rung is
   * judged by what happens to that instance (lost: failed), within a bounded time.
   */
  orphan: { instance: string; id: number; timer: NodeJS.Timeout } | null
  /** Requests with the signature waiting for the verdict. */
  held: Job[]
  /**
   * A copy already running alone on a sacrificial instance as a suspicion's probe when the trial
   * opened: the `exclusive` rung adopts it instead of starting another run (and another instance).
   */
  adopt: Job | null
  /** Instances the signature cost during the trial (by id), stragglers' included. */
  readonly spent: Set<string>
  failures: number
  lastFailure: string
  readonly startedAt: number
  readonly incidentId: string
  readonly steps: IncidentStep[]
  /** The request the incident records: the one that failed first. */
  readonly subject: Pick<Job, 'requestId' | 'method' | 'url' | 'rawHeaders' | 'body' | 'sessionId'>
  /** The first failure's error with a stack, its neighbours, and the first tape a re-run sent. */
  error: IncidentError | null
  neighbours: NeighbourDraft[]
  tape: Tape | null
  /** Epoch ms of the first failure. */
  readonly at: number
}

/**
 * A trial opened by the failure of `job`.
 *
 * @example
 * ```ts
 * const trial = openTrial('GET /boom #-', 'crash', job)
 * ```
 */
export function openTrial(signature: string, kind: FailureKind, job: Job): Trial {
  return {
    signature,
    route: routeOf(job),
    kind,
    tried: [],
    rung: 0,
    rungFailed: false,
    running: new Set(),
    env: null,
    orphan: null,
    held: [],
    adopt: null,
    spent: new Set(),
    failures: 0,
    lastFailure: '',
    startedAt: performance.now(),
    incidentId: createIncidentId(),
    steps: [],
    subject: job,
    error: null,
    neighbours: [],
    tape: null,
    at: Date.now(),
  }
}

/**
 * Adds a failed run to the trial's record. Every instance the signature cost counts, a copy's
 * that was already running elsewhere when the trial opened too (issue 9.4): the bound on what a
 * signature may cost is on instances lost, not only on those the ladder chose to spend.
 */
export function recordFailure(trial: Trial, environment: string, failure: RunFailure): void {
  trial.failures++
  trial.lastFailure = failure.how
  if (failure.spent && failure.instance) trial.spent.add(failure.instance.id)
  const error = failure.error ? { name: failure.error.name, message: failure.error.message, code: failure.error.code, stack: failure.error.stack } : null
  if (error?.stack) trial.error ??= error
  if (trial.neighbours.length === 0 && failure.neighbours) trial.neighbours = failure.neighbours
  trial.tape ??= failure.tape ?? null
  trial.steps.push({
    environment,
    outcome: 'failed',
    failure: failure.how,
    ...(error ? { error } : {}),
    ...(failure.instance ? { instance: failure.instance.id } : {}),
    atMs: Math.round(performance.now() - trial.startedAt),
  })
}

/**
 * Instances running a copy of the trial's signature now that the trial has not counted as spent:
 * stragglers of a failed rung, copies admitted before the trial, a probe. Read only when a rung
 * is chosen (it walks the in-flight table).
 *
 * @example
 * ```ts
 * nextRung({ ...state, copiesRunning: copiesRunning(trial, host.jobs.values(), signatureOf) }, limits)
 * ```
 */
export function copiesRunning(trial: Trial, jobs: Iterable<Job>, signatureOf: (job: Job) => string): number {
  const instances = new Set<string>()
  for (const job of jobs) {
    const id = job.instance?.id
    if (id !== undefined && !job.done && !trial.spent.has(id) && !instances.has(id) && signatureOf(job) === trial.signature) instances.add(id)
  }
  return instances.size
}

/** The incident a finished trial leaves behind (the incident store redacts and writes it). */
export function toIncident(trial: Trial, verdict: Incident['verdict'], cure: Tweak | null): IncidentDraft {
  const { subject } = trial
  return {
    id: trial.incidentId,
    at: trial.at,
    signature: trial.signature,
    request: { requestId: subject.requestId, method: subject.method, url: subject.url, rawHeaders: subject.rawHeaders, body: subject.body, session: subject.sessionId !== null },
    steps: trial.steps,
    verdict,
    cure,
    instancesSpent: trial.spent.size,
    durationMs: Math.round(performance.now() - trial.startedAt),
    kind: trial.kind,
    error: trial.error,
    neighbours: trial.neighbours,
    tape: trial.tape,
  }
}

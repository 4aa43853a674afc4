import { createIncidentId, redactHeaders, type Incident, type IncidentStep } from '../incidents/index.js'
import { routeOf, type Environment, type FailureKind, type Tweak } from '../immunity/index.js'
import type { Job } from './job.js'

/** How one run of a request failed. */
export interface RunFailure {
  /** A suppressed crash's kind, a loss reason, or `deadline`. */
  how: string
  error: { name: string; message: string } | null
  instance: { id: string } | null
  /** True when the failure cost the instance (lost, or retired after a suppressed crash). */
  spent: boolean
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
  orphan: { instance: string; timer: NodeJS.Timeout } | null
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
  readonly subject: Pick<Job, 'requestId' | 'method' | 'url' | 'rawHeaders' | 'body'>
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
  trial.steps.push({
    environment,
    outcome: 'failed',
    failure: failure.how,
    ...(failure.error ? { error: { name: failure.error.name, message: failure.error.message } } : {}),
    ...(failure.instance ? { instance: failure.instance.id } : {}),
    atMs: Math.round(performance.now() - trial.startedAt),
  })
}

/** The incident a finished trial leaves behind. */
export function toIncident(trial: Trial, verdict: Incident['verdict'], cure: Tweak | null): Incident {
  const durationMs = Math.round(performance.now() - trial.startedAt)
  return {
    id: trial.incidentId,
    at: new Date(Date.now() - durationMs).toISOString(),
    signature: trial.signature,
    request: {
      requestId: trial.subject.requestId,
      method: trial.subject.method,
      url: trial.subject.url,
      headers: redactHeaders(trial.subject.rawHeaders),
      bodyBytes: trial.subject.body?.byteLength ?? 0,
    },
    steps: trial.steps,
    verdict,
    cure,
    instancesSpent: trial.spent.size,
    durationMs,
  }
}

import { createIncidentId, type IncidentDraft } from '../incidents/index.js'
import { classifyFailure } from '../immunity/index.js'
import type { Job } from './job.js'
import type { RunFailure } from './trial.js'

/**
 * The incident of a failure that is not run again (a request that is not safe to re-run, or a
 * failure counted against its signature outside the ladder): what the first failure saw, the
 * request (redacted when written), the error and its stack, the requests beside it. No tape: it
 * ran on a serving instance, which records nothing (a request that succeeds pays nothing).
 * Identical failures are counted in one incident by the store, so a flood of them is one file.
 *
 * @example
 * ```ts
 * const draft = firstFailureIncident(job, signature, { how: 'crash:uncaughtException', error, instance, spent: true })
 * incidents.write(draft)
 * respondError(job.res, 500, 'CRASHLESS_ERR_HANDLER', '…', job.requestId, {}, { incidentId: draft.id })
 * ```
 */
export function firstFailureIncident(job: Job, signature: string, failure: RunFailure): IncidentDraft {
  const error = failure.error ? { name: failure.error.name, message: failure.error.message, code: failure.error.code, stack: failure.error.stack } : null
  const now = Date.now()
  return {
    id: createIncidentId(new Date(now)),
    at: now,
    signature,
    verdict: 'failed',
    cure: null,
    instancesSpent: failure.spent && failure.instance ? 1 : 0,
    durationMs: 0,
    kind: classifyFailure(failure.how, error),
    request: { requestId: job.requestId, method: job.method, url: job.url, rawHeaders: job.rawHeaders, body: job.body, session: job.sessionId !== null },
    steps: [{ environment: 'original', outcome: 'failed', failure: failure.how, ...(error ? { error } : {}), ...(failure.instance ? { instance: failure.instance.id } : {}), atMs: 0 }],
    error,
    neighbours: failure.neighbours ?? [],
    tape: null,
  }
}

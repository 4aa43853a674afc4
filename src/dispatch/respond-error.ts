import type { ServerResponse } from 'node:http'
import type { CrashlessErrorCode } from '../errors.js'
import type { ImmunityEntry } from '../immunity/index.js'
import type { Job } from './job.js'

/**
 * Answers a request with crashless's own JSON error. Internal details (the app's error
 * message, stacks) stay in the log; the client gets a code and the request id to quote.
 */
export function respondError(
  res: ServerResponse,
  status: number,
  code: CrashlessErrorCode,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
  /** More fields of the error object (e.g. `incidentId`). */
  extra: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ error: { code, message, requestId, ...extra } })
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-crashless-request-id': requestId,
    'cache-control': 'no-store',
  })
  res.end(body)
}

/**
 * Refuses a request whose signature is quarantined, quoting the incident that decided it.
 *
 * @example
 * ```ts
 * respondQuarantined(job, immunity.isQuarantined(signature)!)
 * ```
 */
export function respondQuarantined(job: Pick<Job, 'res' | 'requestId'>, entry: Pick<ImmunityEntry, 'incidentId' | 'failures' | 'quarantinedUntil'>): void {
  const extra: Record<string, string> = entry.incidentId ? { incidentId: entry.incidentId } : {}
  respondError(job.res, 500, 'CRASHLESS_ERR_QUARANTINED', `requests like this one failed ${entry.failures} times and are refused until ${new Date(entry.quarantinedUntil).toISOString()}`, job.requestId, {}, extra)
}

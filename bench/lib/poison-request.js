// One poison request on a fresh connection (so a cluster spreads them over its workers), with a
// timeout. Records what the poison.js report needs: when it was sent (epoch ms, to compare with
// crashless's log times), how it ended, crashless's error code and request id when it answered
// with one (the id links the client's request to the `culprit` of an `instance-lost` log line).
import { Client } from 'undici'

/**
 * Sends GET `path` and resolves (never rejects) with
 * { path, at, sentAt, ms, outcome, status, code, requestId }:
 * - at: ms since `t0` (performance.now() clock); sentAt: epoch ms
 * - outcome: `<status>` or `<status>:<CODE>` (CRASHLESS_ERR_ prefix dropped, e.g. `500:QUARANTINED`),
 *   `timeout`, or a socket error code (ECONNRESET, UND_ERR_SOCKET, ECONNREFUSED, ...)
 */
export async function sendPoison({ origin, path, timeoutMs = 2000, t0 = 0 }) {
  const client = new Client(origin, { pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } })
  const started = performance.now()
  const shot = { path, at: started - t0, sentAt: performance.timeOrigin + started, ms: undefined, outcome: undefined, status: undefined, code: undefined, requestId: undefined }
  const signal = AbortSignal.timeout(timeoutMs + 100)
  try {
    const res = await client.request({ path, method: 'GET', signal })
    const text = await res.body.text()
    shot.status = res.statusCode
    const id = res.headers['x-crashless-request-id']
    if (typeof id === 'string') shot.requestId = id
    if (res.statusCode >= 400) shot.code = errorCode(text)
    shot.outcome = shot.code ? `${res.statusCode}:${shot.code}` : String(res.statusCode)
  } catch (err) {
    const timedOut = err.name === 'TimeoutError' || err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT'
    shot.outcome = timedOut ? 'timeout' : (err.code ?? err.name ?? 'error')
  } finally {
    shot.ms = performance.now() - started
    client.destroy().catch(() => {})
  }
  return shot
}

/** `QUARANTINED` from crashless's `{"error":{"code":"CRASHLESS_ERR_QUARANTINED",...}}`, else undefined. */
function errorCode(text) {
  try {
    const code = JSON.parse(text)?.error?.code
    return typeof code === 'string' ? code.replace(/^CRASHLESS_ERR_/, '') : undefined
  } catch {
    return undefined
  }
}

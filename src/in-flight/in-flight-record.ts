/** What an instance records of a request in flight: enough to compute its signature later. */
export interface InFlightRecord {
  readonly method: string
  /** The request target as received. */
  readonly url: string
  /** 16 hex digits of the body's SHA-256, '-' without a body, '?' when not hashed (too large). */
  readonly bodyHash: string
}

/**
 * The line kept in an in-flight slot: `METHOD URL #bodyhash`. Raw rather than the signature:
 * the signature's spec may hold a user function (`immunity.signature.key`) that only the
 * runtime's main thread has, so the runtime promoted after a death computes it.
 *
 * @example
 * ```ts
 * formatInFlight({ method: 'GET', url: '/kill?x=1', bodyHash: '-' }) // 'GET /kill?x=1 #-'
 * ```
 */
export function formatInFlight(record: InFlightRecord): string {
  return `${record.method} ${record.url} #${record.bodyHash}`
}

/**
 * The record of a line written by {@link formatInFlight}; null for anything else.
 *
 * @example
 * ```ts
 * parseInFlight('POST /orders #3f2a9c0d11b2e4f5') // { method: 'POST', url: '/orders', bodyHash: '3f2a9c0d11b2e4f5' }
 * ```
 */
export function parseInFlight(line: string): InFlightRecord | null {
  const space = line.indexOf(' ')
  const hash = line.lastIndexOf(' #')
  if (space <= 0 || hash <= space) return null
  return { method: line.slice(0, space), url: line.slice(space + 1, hash), bodyHash: line.slice(hash + 2) }
}

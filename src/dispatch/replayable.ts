/**
 * Whether a request may be run again after its instance died before it answered.
 * RFC 9110 §9.2.2: idempotent methods can be retried automatically; a request carrying an
 * idempotency key (draft-ietf-httpapi-idempotency-key-header) was marked retryable by its client.
 *
 * @example
 * ```ts
 * isReplayable('POST', rawHeaders, { methods: ['GET'], idempotencyKeyHeader: 'idempotency-key' })
 * ```
 */
export function isReplayable(method: string, rawHeaders: string[], options: { methods: readonly string[]; idempotencyKeyHeader: string }): boolean {
  if (options.methods.includes(method)) return true
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === options.idempotencyKeyHeader) return true
  }
  return false
}

/**
 * Polls `probe` until it returns a truthy value, bounded in time; for conditions no event
 * announces (a TTL running out). Rejects naming `what` when the time is up.
 *
 * @example
 * ```ts
 * await waitFor(async () => (await backend.get(['k'])).length === 0, 'k to expire')
 * ```
 */
export async function waitFor<T>(probe: () => Promise<T> | T, what: string, timeoutMs = 3000, intervalMs = 5): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

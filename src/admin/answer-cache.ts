/** How long an admin answer is served again before it is built anew, ms. */
export const ANSWER_TTL_MS = 500

/**
 * Admin answers that cost milliseconds to build on the thread that serves traffic (a page of the
 * immunity table, the `/metrics` text) kept for {@link ANSWER_TTL_MS}: clients polling them in a
 * tight loop get the same text again instead of each one costing the request path a rebuild.
 * Requests that arrive while one is being built share it. Cleared when the immunity table
 * changes, so a release is never shown undone; Prometheus scrapes every 15 s or so and never
 * notices half a second.
 *
 * @example
 * ```ts
 * const answers = new AnswerCache()
 * const text = await answers.get('/metrics', () => registry.metrics())
 * ```
 */
export class AnswerCache {
  private readonly answers = new Map<string, { at: number; text: Promise<string> }>()

  constructor(
    private readonly ttlMs = ANSWER_TTL_MS,
    /** Distinct keys kept (query strings vary): the oldest goes first. */
    private readonly max = 32,
  ) {}

  /** The text under `key` if built less than the TTL ago, else `build()`'s (kept for the next ones). */
  get(key: string, build: () => string | Promise<string>): Promise<string> {
    const now = performance.now()
    const known = this.answers.get(key)
    if (known && now - known.at < this.ttlMs) return known.text
    const text = Promise.resolve().then(build)
    // A failed build is not kept: the next request tries again.
    text.catch(() => this.answers.get(key)?.text === text && this.answers.delete(key))
    this.answers.delete(key)
    this.answers.set(key, { at: now, text })
    if (this.answers.size > this.max) this.answers.delete(this.answers.keys().next().value!)
    return text
  }

  clear(): void {
    this.answers.clear()
  }
}

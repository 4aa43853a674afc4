import { refreshTriages } from '../incidents/index.js'

/** How often an open dashboard looks for triages kept since, ms. */
export const TRIAGE_POLL_MS = 2_000

/**
 * Notices triages that `crashless triage`, another process, keeps in the incidents folder while
 * a dashboard is open, so the incident's row shows its class without a reload. The live feed
 * pokes it on each tick (only while a dashboard is connected); it starts a refresh at most every
 * {@link TRIAGE_POLL_MS}, never two at once: a `stat` per listed incident, a read only of a file
 * that changed, all asynchronous, so the thread that serves traffic only takes their answers.
 * A poll, not a folder watch: it works the same when the folder does not exist yet, is on a
 * network file system, or is written by several runtimes.
 *
 * @example
 * ```ts
 * const triages = new TriagePoll('.crashless/incidents', (err) => log.warn({ err }, 'no triages'))
 * const feed = new LiveFeed(() => (triages.poke(), buildSnapshot(…)), onError)
 * ```
 */
export class TriagePoll {
  private running = false
  private lastAt = -Infinity

  constructor(
    private readonly dir: string,
    private readonly onError: (err: Error) => void,
    private readonly everyMs = TRIAGE_POLL_MS,
  ) {}

  /** Starts a refresh when none runs and the last one began long enough ago. */
  poke(): void {
    const now = performance.now()
    if (this.running || now - this.lastAt < this.everyMs) return
    this.running = true
    this.lastAt = now
    refreshTriages(this.dir).then(
      () => (this.running = false),
      (err: Error) => {
        this.running = false
        this.onError(err)
      },
    )
  }
}

import type { ServerResponse } from 'node:http'

/** How often connected dashboards get a snapshot, ms. */
export const FEED_INTERVAL_MS = 500
/** A comment line this often keeps idle proxies from closing the stream, ms. */
const KEEPALIVE_MS = 15_000

/**
 * Server-sent events for the dashboard (`GET /events`). One snapshot is built per tick and
 * written to every connected client, and only while at least one is connected: with no
 * dashboard open there is no timer. A tick whose snapshot is the same text as the last one
 * sends nothing. The work is a timer on the main thread, never part of a request; a snapshot
 * is bounded (see dashboard-snapshot.ts).
 *
 * @example
 * ```ts
 * const feed = new LiveFeed(() => buildSnapshot(deps), (err) => log.error({ err }, 'no snapshot'))
 * feed.add(res)   // GET /events
 * feed.close()    // the admin endpoint closes
 * ```
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>()
  private timer: NodeJS.Timeout | null = null
  private last = ''
  private lastWriteAt = 0

  constructor(
    private readonly snapshot: () => unknown,
    private readonly onError: (err: Error) => void,
    private readonly intervalMs = FEED_INTERVAL_MS,
  ) {}

  /** Clients connected now. */
  get size(): number {
    return this.clients.size
  }

  /** Starts the stream on `res` with the current snapshot; it ends when the client leaves. */
  add(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Tells buffering proxies (nginx) to pass events through as they come.
      'x-accel-buffering': 'no',
    })
    if (res.req.method === 'HEAD') return void res.end()
    this.clients.add(res)
    res.on('close', () => {
      this.clients.delete(res)
      if (this.clients.size === 0) this.stop()
    })
    const text = this.build()
    if (text !== null) res.write(text)
    this.timer ??= setInterval(() => this.tick(), this.intervalMs)
  }

  /** Ends every stream and the timer. */
  close(): void {
    for (const res of this.clients) res.end()
    this.clients.clear()
    this.stop()
  }

  private tick(): void {
    const text = this.build()
    if (text === null) return
    const now = performance.now()
    if (text !== this.last) {
      this.last = text
      this.lastWriteAt = now
      for (const res of this.clients) res.write(text)
    } else if (now - this.lastWriteAt >= KEEPALIVE_MS) {
      this.lastWriteAt = now
      for (const res of this.clients) res.write(': keep-alive\n\n')
    }
  }

  /** The current snapshot as one `data:` event (JSON has no raw newlines), or null if it could not be built. */
  private build(): string | null {
    try {
      return `data: ${JSON.stringify(this.snapshot())}\n\n`
    } catch (err) {
      this.onError(err as Error)
      return null
    }
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.last = ''
  }
}

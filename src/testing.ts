/**
 * `crashless/testing`: what the regression tests `crashless triage` writes import. One
 * function, `replay`, runs one request against an app the way `crashless replay` does: the app
 * is imported in a process of its own, as an instance loads it (any of the three entry
 * styles), the request is handed to it without a server, store reads and nondeterminism come
 * from a tape, and the outcome is a value to assert on. A loop or a runaway heap fails the run
 * (a stall after the lease, out of memory at `heapMb`) rather than hanging the test.
 */
import { fileURLToPath } from 'node:url'
import { replayApp } from './incidents/index.js'
import type { ReplayRequest } from './host/index.js'
import type { Tape } from './tape.js'

/** The app under test, as an incident records how it ran. */
export interface TestedApp {
  /** Its entry file: a path or a `file:` URL (`new URL('../app.mjs', import.meta.url)`). */
  entry: string | URL
  style?: 'auto' | 'fetch' | 'node' | 'listen'
  /** Default 512. */
  heapMb?: number
  /** Memory outside the heap (Buffers, ArrayBuffers) past which the run is out of memory. Default 0: no cap. */
  externalMb?: number
  /** How long the event loop may stand still before the run is a stall. Default 1000. */
  leaseMs?: number
  /** How long the request may take. Default 30000. */
  requestMs?: number
}

/** How the request failed, or null when the app answered it. */
export interface ReplayFailure {
  kind: string
  /** The first frame of the app's own code in the error's stack (`file:line:col`, relative to the entry's folder). */
  frame: string | null
  name: string | null
  message: string | null
}

/**
 * Runs `request` against `app` once and says how it ended: `failure` is null when the app
 * answered (any status), else how it failed (crash, exit, stack, stall, out-of-memory,
 * deadline, failed).
 *
 * @example
 * ```ts
 * import { replay } from 'crashless/testing'
 * const { failure, status } = await replay({ entry: new URL('../app.mjs', import.meta.url) }, {
 *   request: { method: 'GET', url: '/user?id=666', headers: [['host', 'localhost']], body: null },
 * })
 * assert.equal(failure, null)
 * ```
 */
export async function replay(
  app: TestedApp,
  run: {
    request: Omit<ReplayRequest, 'bodyEncoding' | 'session'> & Partial<Pick<ReplayRequest, 'bodyEncoding' | 'session'>>
    /** Store reads and nondeterminism to play back (an incident's `tape`). */
    tape?: Tape | null
    /** Environment variables set (a string) or removed (null) for the app. */
    env?: Record<string, string | null>
    /** Requests started beside it, and how many of them start first. */
    neighbours?: ReplayRequest[]
    neighboursFirst?: number
  },
): Promise<{ failure: ReplayFailure | null; status: number | null }> {
  const entry = typeof app.entry === 'string' && !app.entry.startsWith('file:') ? app.entry : fileURLToPath(app.entry)
  const result = await replayApp(
    { entry, style: app.style ?? 'auto', heapMb: app.heapMb ?? 512, stackMb: 4, externalMb: app.externalMb ?? 0, leaseMs: app.leaseMs ?? 1000, requestMs: app.requestMs ?? 30_000, sessions: null },
    {
      request: { bodyEncoding: 'utf8', session: false, ...run.request },
      tape: run.tape ?? null,
      env: run.env ?? {},
      neighbours: run.neighbours ?? [],
      neighboursFirst: run.neighboursFirst ?? null,
      checks: false,
    },
  )
  const { got } = result
  if (got.kind === 'none') return { failure: null, status: got.status }
  return { failure: { kind: got.kind, frame: got.frame, name: got.error?.name ?? null, message: got.error?.message ?? null }, status: null }
}

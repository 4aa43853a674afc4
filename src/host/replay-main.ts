/**
 * The entry of a `crashless replay` process: loads the app as an instance would (load-app.ts,
 * the three entry styles), runs one recorded request through it with its tape played back
 * (tape-player.ts), without a server or a store, and reports what happened over IPC. The
 * request is data: nothing from it is evaluated. See src/incidents/replay.ts for the parent.
 */
import { serializeError, packHeaders, type FromInstance, type RequestMessage, type SerializedError } from '../protocol.js'
import { emptyTape, type Tape } from '../tape.js'
import { loadApp } from './load-app.js'
import { registerRequestLookup } from './current-store.js'
import { currentRequestState, requestStorage } from './request-context.js'
import { RequestState } from './request-state.js'
import { ResponseSink } from './response-sink.js'
import { serveFetch } from './serve-fetch.js'
import { serveNode } from './serve-node.js'
import { TapePlayer, type PlaybackReport } from './tape-player.js'

/** What the parent sends: the app and the request to replay. */
export interface ReplayPlan {
  entry: string
  style: 'auto' | 'fetch' | 'node' | 'listen'
  startTimeoutMs: number
  requestMs: number
  sessions: { ttlMs: number } | null
  request: { method: string; url: string; headers: [string, string][]; body: string | null; bodyEncoding: 'utf8' | 'base64'; session: boolean }
  tape: Tape | null
}

/** What the replay process reports: `loaded`, beats while its event loop runs, then one outcome. */
export type ReplayMessage =
  | { type: 'loaded'; style: string }
  | { type: 'beat' }
  | {
      type: 'outcome'
      outcome: 'crash' | 'exit' | 'failed' | 'response' | 'deadline' | 'start-failed'
      how: string
      error: SerializedError | null
      status: number | null
      playback: PlaybackReport
    }

const REQUEST_ID = 1
// `import { store } from 'crashless'` finds the replayed request through this, as in an instance.
registerRequestLookup(currentRequestState)
let reported = false
let player: TapePlayer | null = null

function report(message: ReplayMessage): void {
  if (message.type === 'outcome') {
    if (reported) return
    reported = true
  }
  process.send?.(message)
}

/** Where a failure lands; with --inspect the debugger stops on the `debugger` statement, `error` in scope. */
function failed(outcome: 'crash' | 'exit' | 'failed', how: string, error: unknown): void {
  // eslint-disable-next-line no-debugger -- `crashless replay --inspect` stops here, at the failure.
  debugger
  report({ type: 'outcome', outcome, how, error: serializeError(error), status: null, playback: player?.report ?? { replayed: 0, beyond: 0 } })
}

process.on('uncaughtException', (err) => failed('crash', 'crash:uncaughtException', err))
process.on('unhandledRejection', (reason) => failed('crash', 'crash:unhandledRejection', reason))
const realExit = process.exit.bind(process)
process.exit = ((code?: number) => {
  const error = Object.assign(new Error(`process.exit(${code ?? ''}) called by the app`), { name: 'ProcessExit', code: 'CRASHLESS_ERR_PROCESS_EXIT' })
  failed('exit', 'crash:exit', error)
  throw error
}) as typeof process.exit

process.once('message', (plan: ReplayPlan) => void run(plan))

async function run(plan: ReplayPlan): Promise<void> {
  player = new TapePlayer(plan.tape ?? emptyTape(), REQUEST_ID)
  let app
  try {
    app = await loadApp({ entry: plan.entry, style: plan.style, startTimeoutMs: plan.startTimeoutMs, advertisedPort: undefined })
  } catch (err) {
    report({ type: 'outcome', outcome: 'start-failed', how: 'start-failed', error: serializeError(err), status: null, playback: player.report })
    return
  }
  report({ type: 'loaded', style: app.style })
  // Beats stop when the event loop does: the parent judges a stall by them.
  setInterval(() => report({ type: 'beat' }), 25).unref()
  setTimeout(() => report({ type: 'outcome', outcome: 'deadline', how: 'deadline', error: null, status: null, playback: player!.report }), plan.requestMs).unref()
  const { request } = plan
  const body = request.body === null ? null : Buffer.from(request.body, request.bodyEncoding)
  const shared = body ? new SharedArrayBuffer(body.byteLength) : null
  if (shared && body) new Uint8Array(shared).set(body)
  const msg: RequestMessage = {
    type: 'request', id: REQUEST_ID, seq: 1, method: request.method, url: request.url,
    headerBlock: packHeaders(request.headers.flat()), body: shared, remoteAddress: '127.0.0.1', remotePort: 0, scheme: 'http',
    // The session's id was a credential and is not in the incident; its reads come from the tape.
    ...(request.session ? { sessionId: 'replayed-session' } : {}),
  }
  const state = new RequestState(REQUEST_ID, player.storeClient, plan.sessions, msg.sessionId ?? null)
  const port = {
    postMessage: (out: FromInstance) => {
      if (out.type === 'request-failed') failed('failed', 'request-failed', Object.assign(new Error(out.error.message), out.error))
      else if (out.type === 'response' || out.type === 'head') report({ type: 'outcome', outcome: 'response', how: 'response', error: null, status: out.status, playback: player!.report })
    },
  }
  const sink = new ResponseSink(port as never, REQUEST_ID, () => {}, (status) => state.seal(status))
  requestStorage.run({ id: REQUEST_ID, state }, () =>
    app.style === 'fetch' ? serveFetch(app.fetch, msg, sink, state) : serveNode(app.listener, msg, sink, state, (err) => failed('crash', 'crash:uncaughtException', err)),
  )
}

/** Exits for real once the parent has the outcome (it kills the process anyway). */
process.on('disconnect', () => realExit(0))

/**
 * The entry of a `crashless replay` process: loads the app as an instance would (load-app.ts,
 * the three entry styles), runs one recorded request through it with its tape played back
 * (tape-player.ts), without a server or a store, optionally beside the requests it ran with,
 * and reports what happened over IPC. The request is data: nothing from it is evaluated. With
 * checks on, a thread of its own watches the run (replay-checks.ts). See
 * src/incidents/replay.ts for the parent.
 */
import { serializeError, packHeaders, type FromInstance, type RequestMessage, type SerializedError } from '../protocol.js'
import { emptyTape, type Tape } from '../tape.js'
import { loadApp, type LoadedApp } from './load-app.js'
import { registerRequestLookup } from './current-store.js'
import { currentRequestId, currentRequestState, requestStorage } from './request-context.js'
import { RequestState } from './request-state.js'
import { writeSync } from 'node:fs'
import { CHECKS_FD, ReplayChecks, type CheckLine, type Finding } from './replay-checks.js'
import { ResponseSink } from './response-sink.js'
import { serveFetch } from './serve-fetch.js'
import { serveNode } from './serve-node.js'
import { TapePlayer, type PlaybackReport } from './tape-player.js'

/** One request to replay, as an incident records it (headers and body already redacted). */
export interface ReplayRequest {
  method: string
  url: string
  headers: [string, string][]
  body: string | null
  bodyEncoding: 'utf8' | 'base64'
  session: boolean
}

/** What the parent sends: the app, the request to replay, and what runs beside it. */
export interface ReplayPlan {
  entry: string
  style: 'auto' | 'fetch' | 'node' | 'listen'
  startTimeoutMs: number
  requestMs: number
  /** The incident's `limits.externalMb` (0: no cap): memory outside the heap past it is running out of memory, as in an instance. */
  externalMb: number
  sessions: { ttlMs: number } | null
  request: ReplayRequest
  /** Requests started in the same turn as it (its recorded neighbours), live values, empty store. */
  neighbours: ReplayRequest[]
  /** How many neighbours start before it (0: it starts first). */
  position: number
  tape: Tape | null
  /** Checks on (the lease they judge a stall by), or null. */
  checks: { leaseMs: number } | null
  /** A debugger is attached (--inspect): stop at the failure. */
  inspect: boolean
}

/** What the replay process reports: `loaded`, beats while its event loop runs, then one outcome. */
export type ReplayMessage =
  | { type: 'loaded'; style: string }
  | { type: 'beat' }
  | {
      type: 'outcome'
      outcome: 'crash' | 'exit' | 'failed' | 'response' | 'deadline' | 'out-of-memory' | 'start-failed'
      how: string
      error: SerializedError | null
      status: number | null
      playback: PlaybackReport
      /** Every value the request was handed, recorded or live. */
      used: Tape | null
      findings: Finding[]
    }

const SUBJECT = 1
// `import { store } from 'crashless'` finds the replayed request through this, as in an instance.
registerRequestLookup(currentRequestState)
let reported = false
let player: TapePlayer | null = null
let checks: ReplayChecks | null = null
let inspect = false

function report(message: ReplayMessage): void {
  if (message.type === 'outcome') {
    if (reported) return
    reported = true
  }
  process.send?.(message)
}

function outcome(kind: Extract<ReplayMessage, { type: 'outcome' }>['outcome'], how: string, error: SerializedError | null, status: number | null): void {
  if (reported) return
  const findings = checks?.finish() ?? []
  report({ type: 'outcome', outcome: kind, how, error, status, playback: player?.report ?? { replayed: 0, beyond: 0 }, used: player?.used ?? null, findings })
}

/** Where a failure lands; with --inspect the debugger stops on the `debugger` statement, `error` in scope. */
function failed(kind: 'crash' | 'exit' | 'failed', how: string, error: unknown): void {
  // A neighbour's failure is not the one being replayed.
  const id = currentRequestId()
  if (id !== null && id !== SUBJECT) return
  if (inspect) {
    // eslint-disable-next-line no-debugger -- `crashless replay --inspect` stops here, at the failure.
    debugger
  }
  outcome(kind, how, serializeError(error), null)
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
  inspect = plan.inspect
  player = new TapePlayer(plan.tape ?? emptyTape(), SUBJECT, tellPlayback)
  if (plan.checks) checks = await ReplayChecks.start(plan.checks.leaseMs)
  let app: LoadedApp
  try {
    app = await loadApp({ entry: plan.entry, style: plan.style, startTimeoutMs: plan.startTimeoutMs, advertisedPort: undefined })
  } catch (err) {
    return outcome('start-failed', 'start-failed', serializeError(err), null)
  }
  report({ type: 'loaded', style: app.style })
  checks?.arm()
  // Beats stop when the event loop does: the parent judges a stall by them.
  setInterval(() => report({ type: 'beat' }), 25).unref()
  setTimeout(() => outcome('deadline', 'deadline', null, null), plan.requestMs).unref()
  if (plan.externalMb > 0) watchExternal(plan.externalMb)
  const order = [...plan.neighbours]
  order.splice(Math.min(plan.position, order.length), 0, plan.request)
  let next = SUBJECT + 1
  for (const request of order) start(app, plan, request, request === plan.request ? SUBJECT : next++)
}

/** Values handed back from the tape that are each told to the parent; past them, every PLAYBACK_EVERY-th. */
const PLAYBACK_LINES = 1_000
const PLAYBACK_EVERY = 100

/**
 * Tells the parent, on the side channel and synchronously, how much of the tape a replay has
 * handed back so far: a replay that stalls (or runs out of heap) sends no outcome, and this is
 * how its report still says what it replayed before.
 */
function tellPlayback(report: PlaybackReport): void {
  if (report.replayed > PLAYBACK_LINES && report.replayed % PLAYBACK_EVERY !== 0) return
  try {
    writeSync(CHECKS_FD, `${JSON.stringify({ type: 'playback', playback: report } satisfies CheckLine)}\n`)
  } catch {
    // No side channel (a replay started by hand): the outcome's report is all there is.
  }
}

/** How often external memory is sampled: Buffers grown a turn at a time are seen within a turn or two. */
const EXTERNAL_SAMPLE_MS = 5
const MIB = 1024 * 1024

/**
 * The instance's external-memory cap (src/supervise/memory-guard.ts), here: `--max-old-space-size`
 * bounds only the heap, so without this a Buffer leak that ended an instance at
 * `limits.externalMb` would run on in the replay and answer. Like the guard, this samples
 * between turns: one synchronous allocation is seen once it returns.
 */
function watchExternal(capMb: number): void {
  const timer = setInterval(() => {
    // `external` includes `arrayBuffers` (Node's own docs), as the instance's report does.
    const mb = Math.round(process.memoryUsage().external / MIB)
    if (mb <= capMb) return
    clearInterval(timer)
    outcome('out-of-memory', 'out-of-memory', { name: 'Error', message: `${mb} MiB outside the V8 heap (Buffers, ArrayBuffers), past limits.externalMb (${capMb} MiB)`, code: 'CRASHLESS_ERR_EXTERNAL_LIMIT', stack: undefined }, null)
  }, EXTERNAL_SAMPLE_MS)
  timer.unref()
}

/** Starts one request; only the subject's answer is reported. */
function start(app: LoadedApp, plan: ReplayPlan, request: ReplayRequest, id: number): void {
  const body = request.body === null ? null : Buffer.from(request.body, request.bodyEncoding)
  const shared = body ? new SharedArrayBuffer(body.byteLength) : null
  if (shared && body) new Uint8Array(shared).set(body)
  const msg: RequestMessage = {
    type: 'request', id, seq: id, method: request.method, url: request.url,
    headerBlock: packHeaders(request.headers.flat()), body: shared, remoteAddress: '127.0.0.1', remotePort: 0, scheme: 'http',
    // The session's id was a credential and is not in the incident; its reads come from the tape.
    ...(request.session ? { sessionId: 'replayed-session' } : {}),
  }
  const state = new RequestState(id, player!.storeClient, plan.sessions, msg.sessionId ?? null)
  const subject = id === SUBJECT
  const port = {
    postMessage: (out: FromInstance) => {
      if (!subject) return
      if (out.type === 'request-failed') failed('failed', 'request-failed', Object.assign(new Error(out.error.message), out.error))
      else if (out.type === 'response' || out.type === 'head') outcome('response', 'response', null, out.status)
    },
  }
  const sink = new ResponseSink(port as never, id, () => {}, (status) => state.seal(status))
  requestStorage.run({ id, state }, () =>
    app.style === 'fetch' ? serveFetch(app.fetch, msg, sink, state) : serveNode(app.listener, msg, sink, state, (err) => failed('crash', 'crash:uncaughtException', err)),
  )
}

/** The parent has the outcome: the checks write what they still hold, then the process ends. */
process.on('disconnect', () => {
  if (!checks) return realExit(0)
  void checks.settle().finally(() => realExit(0))
})

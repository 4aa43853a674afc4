/**
 * The entry of an instance (a worker thread, or a child process under `isolation: 'process'`:
 * see instance-link.ts). It loads the user's app, advances the heartbeat lease, runs each
 * request inside its own async context, and reports a fatal error with the request it belongs
 * to before the thread dies.
 */
import type { MessagePort } from 'node:worker_threads'
import { IdMap } from '../id-map.js'
import { Outbox } from '../outbox.js'
import { LeaseSlot, serializeError, type FromInstance, type InstanceMessage, type RequestMessage, type TapeEntryMessage, type ToInstance } from '../protocol.js'
import { InFlightRecorder } from './in-flight-recorder.js'
import { Inbox, takeBackLocally } from './inbox.js'
import { openLink } from './instance-link.js'
import { lowerPriority } from './lower-priority.js'
import { reportHeap } from './heap-report.js'
import { threadId } from './thread-id.js'
import { loadApp, type LoadedApp } from './load-app.js'
import { registerRequestLookup } from './current-store.js'
import { currentRequestId, currentRequestState, requestStorage } from './request-context.js'
import { RequestState } from './request-state.js'
import { ResponseSink } from './response-sink.js'
import { serveFetch } from './serve-fetch.js'
import { serveNode } from './serve-node.js'
import { StoreClient } from './store-client.js'
import { createUpgradeRelay } from './upgrade-relay.js'
import { endTape, startRecording, takeTape } from './tape-recorder.js'
import { QuietWatch } from './quiet-watch.js'

const link = openLink()
const init = link.init
const outbox = new Outbox<InstanceMessage>((batch, transfer) => link.send(batch, transfer))
/** What the rest of the instance posts through: batched per event-loop turn. */
const port = {
  postMessage: (message: FromInstance, transfer?: readonly ArrayBuffer[]) => outbox.post(message, transfer),
} as unknown as MessagePort
// An IdMap, not a Map: an entry per async request would otherwise promote them all (see id-map.ts).
const active = new IdMap<() => void>()
let app: LoadedApp | null = null
let dying = false
const storeClient = new StoreClient(port, init.readCacheBytes)
// `import { store } from 'crashless'` finds the current request through this.
registerRequestLookup(currentRequestState)

function post(message: InstanceMessage): void {
  outbox.post(message)
}

const realExit: (code?: number) => never = process.exit.bind(process) as (code?: number) => never

const suppressed = new Set<number>()

/**
 * An error raised in a request's async context fails that request only (crash suppression,
 * as in SRS): its handler is aborted and the dispatcher is told, and the instance keeps
 * serving the requests it holds; the dispatcher replaces it once they are done, because its
 * memory may be left inconsistent. Errors that belong to no request, or to an upgraded
 * connection (negative ids), still end the instance.
 */
function fail(kind: 'uncaughtException' | 'unhandledRejection', err: unknown, requestId = currentRequestId()): void {
  if (requestId === null || requestId <= 0 || dying) die(kind, err, requestId)
  if (!suppressed.has(requestId)) {
    suppressed.add(requestId)
    const exited = err instanceof ProcessExitError
    post({ type: 'request-crashed', id: requestId, kind: exited ? 'exit' : kind, error: serializeError(err), tape: takeTape(requestId) })
  }
  active.get(requestId)?.()
}

/** Reports the fatal error (attributed to the current request if any) and ends the thread. */
function die(kind: 'uncaughtException' | 'unhandledRejection', err: unknown, requestId = currentRequestId()): never {
  if (!dying) {
    dying = true
    post({ type: 'fatal', kind, requestId, error: serializeError(err), tape: takeTape(requestId) })
  }
  outbox.flush()
  realExit(1)
}

// process.exit() in app code ends only this thread; say which request called it first.
/**
 * Thrown by process.exit() called in a request's code. In plain Node the process would end with
 * every request it holds; here the call ends only its own request: the error unwinds the code
 * after the call (which must not run) and is suppressed like any crash of that request.
 */
class ProcessExitError extends Error {
  override readonly name = 'ProcessExit'
  readonly code = 'CRASHLESS_ERR_PROCESS_EXIT'
}

process.exit = ((code?: number) => {
  const requestId = currentRequestId()
  if (requestId !== null && requestId > 0 && !dying) {
    const error = new ProcessExitError(`process.exit(${code ?? ''}) called by the app`)
    // Reported here, not where the error lands: a framework or fetch wrapper may catch it and
    // answer 500 itself, but the app meant to stop, so the instance must be retired either way.
    if (!suppressed.has(requestId)) {
      suppressed.add(requestId)
      post({ type: 'request-crashed', id: requestId, kind: 'exit', error: serializeError(error), tape: takeTape(requestId) })
    }
    active.get(requestId)?.()
    throw error
  }
  if (!dying) {
    dying = true
    post({ type: 'fatal', kind: 'exit', requestId: currentRequestId(), error: serializeError(new Error(`process.exit(${code ?? ''}) called by the app`)), tape: takeTape(currentRequestId()) })
  }
  outbox.flush()
  return realExit(code)
}) as typeof process.exit

process.on('uncaughtException', (err) => fail('uncaughtException', err))
process.on('unhandledRejection', (reason) => fail('unhandledRejection', reason))

// The lease: the dispatcher replaces an instance whose counter stops advancing, which is
// what a blocked event loop (infinite loop, ReDoS, sync deadlock) looks like from outside. A
// handler starting or a response finishing advances it too: that is progress, however late
// the timer is.
const heartbeat = link.lease
const publish = link.publish
const progress = (): void => void Atomics.add(heartbeat, LeaseSlot.Beat, 1)
// Fast while there is work (requests running or waiting, or any message since the last beat),
// a quarter of a lease while there is none: an idle worker woken every 12 ms spends ~1.6% of a
// core on it, and spares and a standby runtime's instances are idle nearly always. Nothing is
// judged meanwhile: the supervisor looks for stalls only in instances with requests in flight,
// and a request arriving brings the fast beat back first (`wakeBeat`).
let beatFast = true
// Sampled at each handler's end too: a leak grows the heap in handlers, and V8 may not collect for long.
const heap = reportHeap(heartbeat)
let messaged = false
let beatTimer = setTimeout(beat, init.heartbeatIntervalMs).unref()
function beat(): void {
  progress()
  publish()
  heap.beat()
  beatFast = messaged || active.size > 0 || inbox.size > 0
  messaged = false
  beatTimer = setTimeout(beat, beatFast ? init.heartbeatIntervalMs : init.idleHeartbeatMs).unref()
}
function wakeBeat(): void {
  messaged = true
  if (beatFast) return
  beatFast = true
  clearTimeout(beatTimer)
  progress()
  beatTimer = setTimeout(beat, init.heartbeatIntervalMs).unref()
}

const upgrades = createUpgradeRelay(port, (err, id) => die('uncaughtException', err, id), heartbeat, publish)

function handleRequest(msg: RequestMessage): void {
  const loaded = app!
  // Costs one small object; the transaction itself is made only if the handler uses a store.
  const state = new RequestState(msg.id, storeClient, init.sessions, msg.sessionId ?? null)
  const sink = new ResponseSink(port, msg.id, forget, (status) => state.seal(status))
  // A run again of a request this instance ran before starts a tape of its own (recording only).
  endTape(msg.id)
  // The slot names the request whose handler runs synchronously now, so a lease that expires or
  // a heap that runs out before the handler returns is blamed on it, not on its neighbours.
  Atomics.store(heartbeat, LeaseSlot.Running, msg.id)
  progress()
  publish()
  inFlight?.started(msg)
  let abort: () => void
  try {
    abort = requestStorage.run({ id: msg.id, state }, () =>
      loaded.style === 'fetch'
        ? serveFetch(loaded.fetch, msg, sink, state)
        : serveNode(loaded.listener, msg, sink, state, (err) => fail('uncaughtException', err, msg.id)),
    )
  } finally {
    Atomics.store(heartbeat, LeaseSlot.Running, 0)
    heap.handlerDone()
    publish()
  }
  if (!sink.done) active.set(msg.id, abort)
}

function forget(id: number): void {
  inFlight?.ended(id)
  endTape(id)
  active.delete(id)
  progress()
}

const inFlight = InFlightRecorder.open()
// On a sacrificial instance: tells a request that can never finish from a slow one (quiet-watch.ts).
const quiet = new QuietWatch(
  () => active.ids(),
  () => storeClient.outstanding,
  (ids) => post({ type: 'quiet', ids }),
)
const inbox = new Inbox(heartbeat, handleRequest, () => outbox.flush())

link.onBatch((batch) => {
  wakeBeat()
  for (const msg of batch) receive(msg)
  inbox.run()
})

/** How long a drained instance may take to finish what aborted requests left behind. */
const DRAIN_GRACE_MS = 1_000

function receive(msg: ToInstance): void {
  switch (msg.type) {
    case 'request':
      inbox.push(msg)
      break
    case 'abort': {
      if (inbox.drop(msg.id)) break
      // Taken before the abort ends the request (and drops its tape); only a recording instance has one.
      const tape = takeTape(msg.id)
      if (tape) post({ type: 'aborted', id: msg.id, tape })
      active.get(msg.id)?.()
      break
    }
    case 'upgrade':
      // Only a listen() script has a server whose `upgrade` listeners can take the socket.
      if (app?.server) upgrades.accept(msg, app.server)
      else upgrades.refuse(msg.id)
      break
    case 'socket-data':
    case 'socket-close':
    case 'socket-ack':
      upgrades.receive(msg)
      break
    case 'store-result':
      storeClient.receive(msg)
      break
    case 'store-invalidate':
      storeClient.invalidate(msg.keys)
      break
    case 'yield':
      lowerPriority()
      break
    case 'take-back':
      post({ type: 'taken-back', after: takeBackLocally(heartbeat, msg.upTo), upTo: msg.upTo })
      break
    case 'record':
      // Each entry leaves at once, with whatever is queued before it: a run may never yield again.
      startRecording(storeClient, (id, entry) => {
        post({ type: 'tape-entry', id, ...entry } as TapeEntryMessage)
        outbox.flush()
      })
      break
    case 'watch-quiet':
      quiet.start()
      break
    case 'drain':
      outbox.flush()
      // Nothing is in flight, but an aborted request's close handlers may still have work
      // queued: the thread ends once its event loop is idle, or after a grace period if the
      // app keeps handles open (a connection pool, an interval).
      link.release()
      if (msg.graceMs === 0) realExit(0)
      setTimeout(() => realExit(0), msg.graceMs ?? DRAIN_GRACE_MS).unref()
  }
}

// What the instance's own plumbing keeps active, before the app opens anything of its own.
quiet.baseline()
try {
  app = await loadApp({
    entry: init.entry,
    style: init.style,
    startTimeoutMs: init.startTimeoutMs,
    advertisedPort: init.advertisedPort,
  })
  post({ type: 'ready', style: app.style, listen: app.listen, tid: threadId() })
} catch (err) {
  dying = true
  post({ type: 'start-failed', file: init.entry, error: serializeError(err) })
  outbox.flush()
  realExit(1)
}

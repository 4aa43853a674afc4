import type { RequestMessage } from '../protocol.js'
import type { NodeListener } from './load-app.js'
import { createRelayReqRes } from './relay-req-res.js'
import type { RequestState } from './request-state.js'
import type { ResponseSink } from './response-sink.js'

/** Called when the listener throws synchronously: in plain Node that crashes the process. */
export type OnListenerThrow = (err: unknown) => void

/**
 * Runs one request through a Node `(req, res)` listener and relays what it writes into the
 * sink. Returns a function that aborts the request (deadline passed, client gone): the app
 * sees its request and response close, as when a real client disconnects. The request's stores
 * are `req.crashless` (a non-enumerable property, so frameworks copying or logging `req` skip it).
 *
 * @example
 * ```ts
 * const abort = serveNode(app.listener, message, sink, state, (err) => crash(err))
 * ```
 */
export function serveNode(listener: NodeListener, msg: RequestMessage, sink: ResponseSink, state: RequestState, onThrow: OnListenerThrow): () => void {
  const { req, res, socket } = createRelayReqRes(msg, sink)
  // A data property, not a getter: a fresh accessor per request gave every request object a
  // map of its own, and all of them lived on into the old generation (measured with
  // --trace-gc-nvp: ~4 kB promoted per request).
  Object.defineProperty(req, 'crashless', { value: state.context, configurable: true, enumerable: false, writable: true })
  res.once('close', () => {
    if (!sink.done) sink.fail(new Error('the app closed the response without ending it'))
  })
  try {
    listener(req, res)
  } catch (err) {
    onThrow(err)
  }
  return () => {
    sink.abandon()
    req.destroy()
    socket.destroy()
  }
}

import inject from 'light-my-request'
import type { RequestMessage } from '../protocol.js'
import { foldRawHeaders } from './headers.js'
import type { NodeListener } from './load-app.js'
import type { ResponseSink } from './response-sink.js'

/** Called when the listener throws synchronously: in plain Node that crashes the process. */
export type OnListenerThrow = (err: unknown) => void

/**
 * Runs one request through a Node `(req, res)` listener, with req/res built by
 * light-my-request, and streams what the listener writes into the sink.
 *
 * @example
 * ```ts
 * serveNode(app.listener, message, sink, controller.signal, (err) => crash(err))
 * ```
 */
export function serveNode(listener: NodeListener, msg: RequestMessage, sink: ResponseSink, signal: AbortSignal, onThrow: OnListenerThrow): void {
  let threw = false
  const dispatch = isExpressApp(listener)
    ? listener // Express catches its own errors; light-my-request must see the app itself to fix its prototypes.
    : (req: Parameters<NodeListener>[0], res: Parameters<NodeListener>[1]) => {
        try {
          listener(req, res)
        } catch (err) {
          threw = true
          onThrow(err)
        }
      }

  inject(dispatch as never, {
    method: msg.method as never,
    url: msg.url,
    headers: foldRawHeaders(msg.rawHeaders),
    payload: msg.body ? Buffer.from(msg.body) : undefined,
    remoteAddress: msg.remoteAddress,
    payloadAsStream: true,
    signal,
  }).then(
    (res) => {
      sink.writeHead(res.statusCode, res.statusMessage, res.headers as Record<string, string | string[]>)
      const stream = res.stream()
      stream.on('data', (chunk: Buffer) => sink.write(chunk))
      stream.on('end', () => sink.end(Object.keys(res.trailers).length > 0 ? res.trailers : null))
      stream.on('error', (err) => sink.fail(err))
    },
    (err: unknown) => {
      if (threw || signal.aborted) return
      sink.fail(err)
    },
  )
}

function isExpressApp(fn: NodeListener): boolean {
  const candidate = fn as NodeListener & { request?: { app?: unknown }; handle?: unknown }
  return typeof candidate.handle === 'function' && candidate.request?.app === fn
}

import { packHeaders, PROBE_ID_BASE, type FromInstance } from '../protocol.js'
import type { Instance } from '../supervise/index.js'

/** A request crashless sends itself: a health check, or a re-run of a suspect. */
export interface ProbeRequest {
  readonly method: string
  readonly url: string
  readonly rawHeaders: readonly string[]
  readonly body: SharedArrayBuffer | null
  readonly sessionId: string | null
}

/** How a probe went: the status of its answer, or why there is none. */
export type ProbeResult = { readonly status: number } | { readonly failed: 'crash' | 'timeout' | 'lost' }

/** True when a probe's result is a good answer (below 500). */
export function answeredWell(result: ProbeResult): boolean {
  return 'status' in result && result.status < 500
}

interface Pending {
  readonly instance: Instance
  /** `done`: the instance finished it (a whole response); otherwise it is told to drop it. */
  readonly settle: (result: ProbeResult, done?: boolean) => void
}

/**
 * Requests sent to one chosen instance with no client behind them (ids from PROBE_ID_BASE up, see
 * protocol.ts): only the status of the answer is kept; the body and any store writes are
 * dropped (a probe's transaction is never committed), so re-running a request that is not
 * idempotent this way has no effect beyond the instance. Its store reads are answered as usual
 * (the dispatcher answers reads whatever asks).
 *
 * @example
 * ```ts
 * const result = await probes.run(instance, { method: 'GET', url: '/health', rawHeaders: [], body: null, sessionId: null }, 1_000)
 * if (!answeredWell(result)) failures++
 * ```
 */
export class Probes {
  private next = PROBE_ID_BASE
  private readonly pending = new Map<number, Pending>()

  /** True for a message about a probe (the caller then hands it here instead of to the dispatcher). */
  owns(msg: FromInstance & { id: number }): boolean {
    return msg.id >= PROBE_ID_BASE
  }

  /**
   * Sends `request` to `instance` and resolves with its status, or `timeout` after `timeoutMs`
   * (the instance is then told to drop it), `crash` or `lost`. With `occupy`, the probe counts
   * in the instance's in-flight set while it runs (a sacrificial instance looks busy to others).
   */
  run(instance: Instance, request: ProbeRequest, timeoutMs: number, occupy = false): Promise<ProbeResult> {
    const id = this.take()
    return new Promise<ProbeResult>((resolve) => {
      const timer = setTimeout(() => settle({ failed: 'timeout' }), timeoutMs)
      timer.unref()
      const settle = (result: ProbeResult, done = false): void => {
        if (!this.pending.delete(id)) return
        clearTimeout(timer)
        if (occupy) instance.inflight.delete(id)
        if (!done) instance.post({ type: 'abort', id })
        resolve(result)
      }
      this.pending.set(id, { instance, settle })
      if (occupy) instance.inflight.add(id)
      instance.postRequest({
        type: 'request',
        id,
        method: request.method,
        url: request.url,
        headerBlock: packHeaders(request.rawHeaders as string[]),
        body: request.body,
        remoteAddress: '127.0.0.1',
        remotePort: 0,
        scheme: 'http',
        ...(request.sessionId === null ? {} : { sessionId: request.sessionId }),
      })
    })
  }

  /** A fresh probe id, e.g. to mark an instance busy for a while (see `run`'s `occupy`). */
  take(): number {
    const id = this.next
    this.next = this.next >= 2 ** 31 - 2 ? PROBE_ID_BASE : this.next + 1
    return id
  }

  /** A message about a probe, from the instance running it. */
  handle(instance: Instance, msg: FromInstance & { id: number }): void {
    const pending = this.pending.get(msg.id)
    if (!pending || pending.instance !== instance) return
    switch (msg.type) {
      case 'response':
        return pending.settle({ status: msg.status }, true)
      case 'head':
        return pending.settle({ status: msg.status })
      case 'request-failed':
        return pending.settle({ status: 500 }, true)
      case 'request-crashed':
        return pending.settle({ failed: 'crash' }, true)
      default:
        return
    }
  }

  /** An instance died: its probes end as `lost`. */
  lost(instance: Instance): void {
    for (const pending of [...this.pending.values()]) if (pending.instance === instance) pending.settle({ failed: 'lost' })
  }
}

import type { MessagePort } from 'node:worker_threads'
import { INLINE_BODY_BYTES } from '../wire.js'
import { serializeError, type FromInstance, type ResponseHeaders, type TransactionPayload } from '../protocol.js'

/**
 * Collects one response and sends it to the dispatcher in as few messages as possible: a
 * response that ends before the next turn of the event loop goes as a single `response`
 * message; one that keeps going (chunked, server-sent events) goes as `head`, `chunk`s and `end`.
 * The request's store transaction is sealed as the response (or its head) goes and travels with
 * it: the dispatcher commits it before the client sees anything.
 */
export class ResponseSink {
  private head: { status: number; statusMessage: string | undefined; headers: ResponseHeaders } | null = null
  private chunks: Buffer[] = []
  private size = 0
  private streaming = false
  private scheduled = false
  private closed = false

  constructor(
    private readonly port: MessagePort,
    readonly id: number,
    private readonly onDone: (id: number) => void,
    private readonly seal: (status: number) => TransactionPayload | undefined = () => undefined,
  ) {}

  /** True once the response was sent or abandoned; later writes are dropped. */
  get done(): boolean {
    return this.closed
  }

  writeHead(status: number, statusMessage: string | undefined, headers: ResponseHeaders): void {
    if (this.closed || this.head) return
    this.head = { status, statusMessage, headers }
    this.schedule()
  }

  write(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return
    this.chunks.push(chunk)
    this.size += chunk.length
    this.schedule()
  }

  end(trailers: Record<string, string> | null): void {
    if (this.closed) return
    this.flush(true, trailers)
  }

  /** The handler failed: report it for this request only. */
  fail(err: unknown): void {
    if (this.closed) return
    this.close()
    this.post({ type: 'request-failed', id: this.id, error: serializeError(err), started: this.streaming })
  }

  /** The dispatcher gave up on the request (deadline, client gone). */
  abandon(): void {
    this.chunks = []
    this.close()
  }

  private close(): void {
    if (this.closed) return
    this.closed = true
    this.onDone(this.id)
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      if (!this.closed) this.flush(false, null)
    })
  }

  private flush(ended: boolean, trailers: Record<string, string> | null): void {
    const head = this.head
    if (!head) {
      if (ended) this.fail(new Error('the response ended without a status line'))
      return
    }
    if (!this.streaming) {
      if (ended) {
        this.close()
        const body = this.takeBody()
        const tx = this.seal(head.status)
        // No transfer list here: the link decides how the body crosses (see wire.ts).
        this.post(tx ? { type: 'response', id: this.id, ...head, body, tx } : { type: 'response', id: this.id, ...head, body })
        return
      }
      this.streaming = true
      const tx = this.seal(head.status)
      this.post(tx ? { type: 'head', id: this.id, ...head, tx } : { type: 'head', id: this.id, ...head })
    }
    const data = this.takeBody()
    if (data) {
      const own = data.length > INLINE_BODY_BYTES ? data : exclusiveConcat([data], data.length)
      this.post({ type: 'chunk', id: this.id, data: own.buffer as ArrayBuffer }, [own.buffer as ArrayBuffer])
    }
    if (ended) {
      this.close()
      this.post({ type: 'end', id: this.id, trailers })
    }
  }

  /**
   * The pending chunks as one view. A small body may be the app's own Buffer or a slice of Node's
   * pool (it crosses as a string, see wire.ts); a larger one is copied once into a buffer of its
   * own, which the link can transfer without another copy.
   */
  private takeBody(): Buffer | null {
    if (this.size === 0) return null
    const small = this.size <= INLINE_BODY_BYTES
    const out = small && this.chunks.length === 1 ? this.chunks[0]! : small ? Buffer.concat(this.chunks, this.size) : exclusiveConcat(this.chunks, this.size)
    this.chunks = []
    this.size = 0
    return out
  }

  private post(message: FromInstance, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(message, transfer)
  }
}

/** Buffers from Node's shared pool (or an app's, reused later) cannot be transferred: copy into a private one. */
function exclusiveConcat(chunks: Buffer[], size: number): Buffer {
  const out = Buffer.allocUnsafeSlow(size)
  let offset = 0
  for (const chunk of chunks) {
    chunk.copy(out, offset)
    offset += chunk.length
  }
  return out
}

import { Duplex } from 'node:stream'
import type { MessagePort } from 'node:worker_threads'
import type { SocketCloseMessage, SocketDataMessage, SocketFlowMessage } from '../protocol.js'

/** Where the client is, as the dispatcher saw it. */
export interface RemoteEnd {
  address: string
  port: number
}

/**
 * Stands in for the client's TCP socket inside an instance: what the app writes goes to the
 * dispatcher as `socket-data`, what the client sends arrives through `deliver()`. It carries
 * the parts of `net.Socket` that WebSocket libraries use (remote address, timeouts, no-delay).
 *
 * Backpressure works both ways with `socket-flow`: when the app stops reading, the
 * dispatcher is asked to pause the client; when the client stops reading, the dispatcher asks
 * this side to hold write callbacks, so `ws`'s `bufferedAmount` and stream `drain` behave as
 * they would on a real socket.
 *
 * @example
 * ```ts
 * const socket = new RelayedSocket(port, -1, { address: '127.0.0.1', port: 50000 })
 * server.emit('upgrade', req, socket, head)
 * socket.deliver(Buffer.from(bytes))
 * ```
 */
export class RelayedSocket extends Duplex {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly remoteFamily: string
  /** The dispatcher already knows the connection is over; nothing more to tell it. */
  private peerGone = false
  /** We asked the dispatcher to pause the client. */
  private holdingClient = false
  /** The dispatcher asked us to hold writes: the client is not reading. */
  private clientSlow = false
  private heldWrite: (() => void) | null = null
  private idleTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly port: MessagePort,
    readonly id: number,
    remote: RemoteEnd,
  ) {
    // A real server socket stays writable after the client's FIN; the app decides when to end.
    super({ allowHalfOpen: true })
    this.remoteAddress = remote.address
    this.remotePort = remote.port
    this.remoteFamily = remote.address.includes(':') ? 'IPv6' : 'IPv4'
  }

  /** Bytes from the client (`null`: the client ended its side). */
  deliver(data: Buffer | null): void {
    if (this.destroyed) return
    this.idleTimer?.refresh()
    if (!this.push(data) && data !== null && !this.holdingClient) {
      this.holdingClient = true
      this.post({ type: 'socket-flow', id: this.id, paused: true })
    }
  }

  /** The client is (not) keeping up with what the app writes. */
  setClientSlow(slow: boolean): void {
    this.clientSlow = slow
    if (!slow && this.heldWrite) {
      const release = this.heldWrite
      this.heldWrite = null
      release()
    }
  }

  /** The client's connection is gone: tear down without telling the dispatcher back. */
  closedByClient(): void {
    this.peerGone = true
    this.destroy()
  }

  override _read(): void {
    if (this.holdingClient) {
      this.holdingClient = false
      this.post({ type: 'socket-flow', id: this.id, paused: false })
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send([chunk], chunk.length, callback)
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    let size = 0
    for (const { chunk } of chunks) size += chunk.length
    this.send(
      chunks.map((c) => c.chunk),
      size,
      callback,
    )
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.post({ type: 'socket-data', id: this.id, data: null })
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
    this.heldWrite = null
    if (!this.peerGone) {
      this.peerGone = true
      this.post({ type: 'socket-close', id: this.id })
    }
    callback(error)
  }

  /** Like `net.Socket#setTimeout`: emits `timeout` after `ms` without traffic (0 disables). */
  setTimeout(ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback)
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
    if (ms > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), ms)
      this.idleTimer.unref()
    }
    return this
  }

  /** The dispatcher's socket already has no-delay on; nothing to change here. */
  setNoDelay(_noDelay?: boolean): this {
    return this
  }

  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this
  }

  ref(): this {
    return this
  }

  unref(): this {
    return this
  }

  private send(chunks: Buffer[], size: number, callback: () => void): void {
    this.idleTimer?.refresh()
    if (size > 0) {
      // Buffers from Node's shared pool cannot be transferred, so copy into a private one.
      const out = Buffer.allocUnsafeSlow(size)
      let offset = 0
      for (const chunk of chunks) offset += chunk.copy(out, offset)
      const data = out.buffer as ArrayBuffer
      this.post({ type: 'socket-data', id: this.id, data }, [data])
    }
    if (this.clientSlow) this.heldWrite = callback
    else callback()
  }

  private post(message: SocketDataMessage | SocketCloseMessage | SocketFlowMessage, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(message, transfer)
  }
}

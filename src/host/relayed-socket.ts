import { Duplex } from 'node:stream'
import type { MessagePort } from 'node:worker_threads'
import { SOCKET_ACK_BYTES, SOCKET_WINDOW_BYTES, type SocketAckMessage, type SocketCloseMessage, type SocketDataMessage } from '../protocol.js'

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
 * Flow control works both ways with `socket-ack` credits: the app's writes complete only while
 * less than a window is unacknowledged by the dispatcher (which acknowledges what the client's
 * socket has taken), so `ws`'s `bufferedAmount` and stream `drain` behave as on a real socket;
 * and client bytes are acknowledged as the app reads them, so an app that stops reading stops
 * the client.
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
  /** Bytes posted to the dispatcher, and how many of them it has written to the client. */
  private sent = 0
  private acked = 0
  /** The app's write waiting for the client to catch up. */
  private heldWrite: ((error?: Error | null) => void) | null = null
  /** Client bytes pushed to the app, and how many of them were acknowledged. */
  private received = 0
  private reported = 0
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
    if (data) this.received += data.length
    this.push(data)
  }

  /** The dispatcher has written `bytes` bytes (in total) of the app's output to the client. */
  acknowledge(bytes: number): void {
    this.acked = bytes
    if (this.heldWrite && this.sent - this.acked <= SOCKET_WINDOW_BYTES) {
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

  /** Called whenever the app wants more: what it has taken so far can be acknowledged. */
  override _read(): void {
    const taken = this.received - this.readableLength
    if (taken - this.reported >= SOCKET_ACK_BYTES) {
      this.reported = taken
      this.post({ type: 'socket-ack', id: this.id, bytes: taken })
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
    // A write still waiting for the client never reached it; say so, as a real socket would.
    const held = this.heldWrite
    this.heldWrite = null
    held?.(Object.assign(new Error('the connection closed before the write was sent'), { code: 'ERR_STREAM_DESTROYED' }))
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

  private send(chunks: Buffer[], size: number, callback: (error?: Error | null) => void): void {
    this.idleTimer?.refresh()
    if (size > 0) {
      // Buffers from Node's shared pool cannot be transferred, so copy into a private one.
      const out = Buffer.allocUnsafeSlow(size)
      let offset = 0
      for (const chunk of chunks) offset += chunk.copy(out, offset)
      const data = out.buffer as ArrayBuffer
      this.sent += size
      this.post({ type: 'socket-data', id: this.id, data }, [data])
    }
    if (this.sent - this.acked > SOCKET_WINDOW_BYTES) this.heldWrite = callback
    else callback()
  }

  private post(message: SocketDataMessage | SocketCloseMessage | SocketAckMessage, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(message, transfer)
  }
}

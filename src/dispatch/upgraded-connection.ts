import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { SOCKET_ACK_BYTES, SOCKET_WINDOW_BYTES } from '../protocol.js'
import type { Instance } from '../supervise/index.js'

/**
 * One client connection that asked for an upgrade, and the byte relay between its socket and
 * the instance that holds it, with flow control both ways: at most a window of client bytes
 * the app has not read (the client is paused past that), and app bytes acknowledged to the
 * instance only as the client's socket takes them (the instance holds the app's writes past
 * a window).
 *
 * @example
 * ```ts
 * const conn = new UpgradedConnection(-1, 'abc-u1', req, socket, head)
 * conn.offerTo(instance)
 * // on `upgrade-answer` accepted:
 * conn.open()
 * ```
 */
export class UpgradedConnection {
  state: 'offered' | 'open' | 'closed' = 'offered'
  /** How many instances it was offered to. */
  offers = 0
  instance: Instance | null = null
  /** Kept until an instance accepts, to offer the upgrade again if that instance dies first. */
  private head: Buffer
  /** Client bytes posted to the instance, and how many the app has read. */
  private sent = 0
  private acked = 0
  private waitingForApp = false
  /** App bytes the client's socket has taken, and how many of them the instance was told of. */
  private flushed = 0
  private reported = 0

  constructor(
    /** Negative, so faults attributed to it can never be taken for a request id. */
    readonly id: number,
    readonly name: string,
    readonly req: IncomingMessage,
    readonly socket: Socket,
    head: Buffer,
  ) {
    // The front's buffer may be reused; the copy is ours to keep.
    this.head = Buffer.from(head)
  }

  /** Posts the upgrade request to an instance, which answers `upgrade-answer`. */
  offerTo(instance: Instance): void {
    this.instance = instance
    this.offers++
    const head = this.head.length > 0 ? copyOut(this.head) : null
    const { req, socket } = this
    instance.post(
      { type: 'upgrade', id: this.id, method: req.method ?? 'GET', url: req.url ?? '/', rawHeaders: req.rawHeaders, head, remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 },
      head ? [head] : undefined,
    )
  }

  /** The instance took the upgrade: client bytes flow to it from now on. */
  open(): void {
    this.state = 'open'
    this.head = Buffer.alloc(0)
    const { socket, id } = this
    const instance = this.instance!
    // WebSocket frames are small and latency-bound, as `ws` sets on a socket it owns.
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => {
      if (this.state !== 'open') return
      // The instance ended without a loss report (drained): nobody will answer any more.
      if (instance.state === 'dead') return void socket.destroy()
      const data = copyOut(chunk)
      instance.post({ type: 'socket-data', id, data }, [data])
      this.sent += chunk.length
      if (this.sent - this.acked > SOCKET_WINDOW_BYTES) {
        this.waitingForApp = true
        socket.pause()
      }
    })
    socket.on('end', () => {
      if (this.state === 'open') instance.post({ type: 'socket-data', id, data: null })
    })
  }

  /** The app has read `bytes` client bytes in total. */
  acknowledged(bytes: number): void {
    this.acked = bytes
    if (this.waitingForApp && this.sent - this.acked <= SOCKET_WINDOW_BYTES) {
      this.waitingForApp = false
      this.socket.resume()
    }
  }

  /** Writes app bytes to the client, acknowledging them to the instance as the socket takes them. */
  toClient(data: Buffer): void {
    this.socket.write(data, () => {
      this.flushed += data.length
      if (this.state === 'open' && this.flushed - this.reported >= SOCKET_ACK_BYTES) {
        this.reported = this.flushed
        this.instance!.post({ type: 'socket-ack', id: this.id, bytes: this.flushed })
      }
    })
  }
}

/** Copies bytes into an unpooled ArrayBuffer that can be transferred to a worker. */
function copyOut(bytes: Buffer): ArrayBuffer {
  const out = Buffer.allocUnsafeSlow(bytes.length)
  bytes.copy(out)
  return out.buffer as ArrayBuffer
}

/**
 * HTTP/1.1 over raw sockets, for what a regular client will not send or will not show:
 * malformed requests, pipelining, exact framing of responses. Not a test file itself.
 */
import net from 'node:net'
import { withTimeout } from './http-harness.js'

/** Every byte the server sent before it closed the connection. */
export interface RawResult {
  data: Buffer
  text: string
}

/**
 * Writes `payload` on a fresh connection and collects what comes back until the server closes
 * the connection. Rejects if it is still open after `timeoutMs`: every use expects a close
 * (an error response, or a last request sent with `Connection: close`).
 */
export function rawExchange(port: number, payload: string | Buffer, options: { timeoutMs?: number } = {}): Promise<RawResult> {
  const timeoutMs = options.timeoutMs ?? 5_000
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = net.connect(port, '127.0.0.1')
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the connection was still open after ${timeoutMs} ms; received ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`))
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const data = Buffer.concat(chunks)
      resolve({ data, text: data.toString('latin1') })
    })
    socket.write(payload)
  })
}

/** Splits a raw HTTP/1.1 response into status line, header lines and the rest. */
export function parseHead(text: string): { statusLine: string; headers: [string, string][]; rest: string } {
  const end = text.indexOf('\r\n\r\n')
  if (end < 0) throw new Error(`no complete response head in ${JSON.stringify(text)}`)
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n')
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]
  })
  return { statusLine: statusLine!, headers, rest: text.slice(end + 4) }
}

/** A raw connection that collects what it receives, for tests that act between reads. */
export interface RawConnection {
  socket: net.Socket
  /** Everything received so far, as latin1 text. */
  received(): string
  /** Resolves once the received text matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>
  /** Resolves when the connection is closed. */
  closed: Promise<void>
}

/** Opens a raw connection to 127.0.0.1:`port` and writes `payload`. */
export function rawConnect(port: number, payload: string): RawConnection {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let text = ''
  const waiters: { pattern: RegExp; resolve: () => void }[] = []
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    text += chunk
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(text)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  })
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  socket.write(payload)
  return {
    socket,
    received: () => text,
    waitFor: (pattern, timeoutMs = 5_000) =>
      pattern.test(text)
        ? Promise.resolve()
        : withTimeout(new Promise<void>((resolve) => waiters.push({ pattern, resolve })), timeoutMs, `never received ${pattern}; got ${JSON.stringify(text)}`),
    closed,
  }
}

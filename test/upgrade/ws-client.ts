import WebSocket from 'ws'

/** A received WebSocket message: text as a string, binary as a Buffer. */
export type Received = string | Buffer

/** A `ws` client whose messages and close can be awaited in order. */
export interface WsClient {
  ws: WebSocket
  /** The next message not yet taken (rejects after timeoutMs, or once the socket has closed). */
  next: (timeoutMs?: number) => Promise<Received>
  /** Sends and waits for the next message. */
  ask: (data: string | Buffer) => Promise<Received>
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>
}

/** Opens a WebSocket and resolves once it is open (rejects on an HTTP answer instead of 101). */
export async function connect(url: string): Promise<WsClient> {
  const ws = new WebSocket(url)
  const queue: Received[] = []
  const waiters: { resolve: (m: Received) => void; reject: (e: Error) => void }[] = []
  let ended: Error | null = null
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const message = isBinary ? data : data.toString()
    const waiter = waiters.shift()
    if (waiter) waiter.resolve(message)
    else queue.push(message)
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      ended = new Error(`the socket closed (${code})`)
      for (const waiter of waiters.splice(0)) waiter.reject(ended)
      resolve({ code, reason: reason.toString() })
    })
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  // Errors after opening show up as a close; keep them from being unhandled.
  ws.on('error', () => {})
  const next = (timeoutMs = 10_000): Promise<Received> => {
    if (queue.length > 0) return Promise.resolve(queue.shift()!)
    if (ended) return Promise.reject(ended)
    return new Promise<Received>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs)
      waiters.push({
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
    })
  }
  return {
    ws,
    next,
    ask: (data) => {
      ws.send(data)
      return next()
    },
    closed,
  }
}

/** The thread id from the fixture's `welcome <threadId> <url> <remoteAddress>` push. */
export function welcomeThread(message: Received): string {
  const parts = String(message).split(' ')
  if (parts[0] !== 'welcome') throw new Error(`expected a welcome message, got ${String(message)}`)
  return parts[1]!
}

/**
 * The test side of the gate the fixture apps wait on (test/fixtures/http/gate.mjs). Not a
 * test file itself.
 */
import net from 'node:net'
import { withTimeout } from './http-harness.js'

/**
 * A TCP server the fixture apps connect to with a name: the test learns that a handler has
 * started (`arrived`) and decides when it may go on (`release`). Independent of crashless, so
 * it works while every instance slot is taken.
 */
export interface Gate {
  port: number
  /** Resolves once a handler has announced `name`. */
  arrived(name: string, timeoutMs?: number): Promise<void>
  /** Whether a handler has announced `name` (released or not). */
  seen(name: string): boolean
  /** Lets the handler waiting on `name` go on. */
  release(name: string): void
  close(): Promise<void>
}

/** Starts a gate on a free loopback port. */
export async function startGate(): Promise<Gate> {
  const held = new Map<string, net.Socket>()
  const waiters = new Map<string, (() => void)[]>()
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buffered = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const name = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        held.set(name, socket)
        for (const wake of waiters.get(name) ?? []) wake()
        waiters.delete(name)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    arrived: (name, timeoutMs = 10_000) => {
      if (held.has(name)) return Promise.resolve()
      return withTimeout(
        new Promise<void>((resolve) => waiters.set(name, [...(waiters.get(name) ?? []), resolve])),
        timeoutMs,
        `the handler "${name}" never reached the gate`,
      )
    },
    seen: (name) => held.has(name),
    release: (name) => {
      const socket = held.get(name)
      if (!socket) throw new Error(`nothing is held at "${name}"`)
      socket.write('go\n')
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

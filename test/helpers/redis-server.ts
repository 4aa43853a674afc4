import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A real redis-server started for a test, on a free loopback port, without persistence. */
export interface RedisServer {
  port: number
  /** redis://127.0.0.1:<port> */
  url: string
  pid: number
  /** Kills the server by pid and waits for it to exit. */
  stop: () => Promise<void>
}

/** The binary: $CRASHLESS_REDIS_SERVER, else `redis-server` on the PATH (CI installs it via apt). */
const BINARY = process.env.CRASHLESS_REDIS_SERVER ?? 'redis-server'

/** Binds port 0 on loopback and releases it: a port free right now. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  server.close()
  await once(server, 'close')
  return port
}

/** Sends PING over a raw socket; resolves true on +PONG. */
export async function ping(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    let reply = ''
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
    socket.on('error', () => done(false))
  })
}

/**
 * Starts `redis-server --port <free> --save '' --appendonly no` on 127.0.0.1 and resolves once it
 * logged that it is ready and answered PING. Retries on another port if the one picked was taken
 * in between. Call `stop()` in an `after` hook.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer()
 * after(() => redis.stop())
 * const backend = await createBackend({ kind: 'redis', url: redis.url })
 * ```
 */
export async function startRedisServer(timeoutMs = 10_000): Promise<RedisServer> {
  let lastError: Error | undefined
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freePort(), timeoutMs)
    } catch (err) {
      lastError = err as Error
      if (!/address already in use/i.test(lastError.message)) throw lastError
    }
  }
  throw lastError!
}

async function startOnce(port: number, timeoutMs: number): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'crashless-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no']
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not get ready within ${timeoutMs} ms:\n${output}`)), timeoutMs)
      const settle = (err?: Error) => {
        clearTimeout(timer)
        if (err) reject(err)
        else resolve()
      }
      child.once('error', (err) => settle(new Error(`cannot start ${BINARY} (install redis-server or set CRASHLESS_REDIS_SERVER): ${err.message}`)))
      child.once('exit', (code, signal) => settle(new Error(`redis-server exited (code ${code}, signal ${signal}) before it was ready:\n${output}`)))
      const collect = (chunk: Buffer) => {
        output += chunk.toString('utf8')
        if (output.includes('Ready to accept connections')) settle()
      }
      child.stdout!.on('data', collect)
      child.stderr!.on('data', collect)
    })
    if (!(await ping(port))) throw new Error(`redis-server on port ${port} is ready but did not answer PING:\n${output}`)
  } catch (err) {
    await stop()
    throw err
  }
  return { port, url: `redis://127.0.0.1:${port}`, pid: child.pid!, stop }
}

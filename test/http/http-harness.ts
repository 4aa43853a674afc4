/**
 * Shared pieces of the HTTP semantics tests: timeouts, config files in temp dirs, requests
 * on their own connections, crashless's error body. Not a test file itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Rejects with `message` when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** A temp dir holding `crashless.config.mjs` with `config`; `cleanup` removes it. */
export function writeConfig(config: object): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'crashless-http-'))
  const file = join(dir, 'crashless.config.mjs')
  writeFileSync(file, `export default ${JSON.stringify(config, null, 2)}\n`)
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A request sent on its own connection (node:http, no agent). */
export interface SentRequest {
  /** Resolves once the whole request was handed to the kernel. */
  flushed: Promise<void>
  response: Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>
  /** Destroys the connection, as a client that goes away. */
  abort(): void
}

/** Sends one request on a fresh connection; the response promise rejects on a socket error. */
export function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): SentRequest {
  let flushed!: () => void
  const flushedPromise = new Promise<void>((resolve) => (flushed = resolve))
  const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false })
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      res.on('error', reject)
    })
  })
  // Callers that only abort must not leave an unhandled rejection behind.
  response.catch(() => {})
  req.end(options.body, () => flushed())
  return { flushed: flushedPromise, response, abort: () => req.destroy() }
}

/** The JSON error crashless answers with. */
export interface CrashlessErrorBody {
  error: { code: string; message: string; requestId: string }
}

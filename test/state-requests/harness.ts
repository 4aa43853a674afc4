/**
 * Shared pieces of the request-level store tests: crashless started on a fixture app of
 * test/fixtures/state/ with a config file in a temp directory of its own (which is also its
 * working directory, so the sqlite store lands in `<dir>/.crashless/state.db`), and a request
 * helper that can never hang a test.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import type { CrashlessConfig } from '../../src/config/index.js'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'

/** Keep-alive connections shared by the requests of a test file; closed by `cleanup`. */
export const agent = new Agent({ connections: 64, keepAliveTimeout: 2_000, headersTimeout: 20_000, bodyTimeout: 20_000 })

const cleanups: (() => Promise<unknown> | void)[] = []

/** A directory for one crashless's config and data, removed by `cleanup`. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crashless-state-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Starts crashless on `test/fixtures/state/<app>` with `config` (merged over a small default:
 * 2 instances) written to `<dir>/crashless.config.mjs`, in `dir` as working directory.
 */
export async function startApp(app: string, config: CrashlessConfig = {}, dir = tempDir(), args: string[] = []): Promise<CrashlessProcess> {
  const file = join(dir, 'crashless.config.mjs')
  writeFileSync(file, `export default ${JSON.stringify({ instances: 2, ...config, entry: fixture(`state/${app}`) })}\n`)
  const server = await startCrashless(fixture(`state/${app}`), ['--config', file, ...args], { cwd: dir })
  cleanups.push(() => server.stop())
  return server
}

/** Stops every process started here, removes temp dirs and closes the agent; for `after`. */
export async function cleanup(): Promise<void> {
  for (const task of cleanups.splice(0).reverse()) await task()
  await agent.close()
}

/** One answer, fully read. */
export interface Answer {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}

/** Sends one request through the shared agent and reads the whole answer. */
export async function send(url: string, init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await request(url, { dispatcher: agent, method: (init.method ?? 'GET') as 'GET', body: init.body, headers: init.headers })
  const body = await res.body.text()
  return { status: res.statusCode, body, headers: res.headers }
}

/** Sends a request expecting 200 JSON and returns the parsed body. */
export async function sendJson<T = Record<string, unknown>>(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<T> {
  const answer = await send(url, init)
  assert.equal(answer.status, 200, `${init.method ?? 'GET'} ${url}: ${answer.status} ${answer.body}`)
  return JSON.parse(answer.body) as T
}

/** POSTs a JSON value to `/set?k=<key>`. */
export async function setKey(base: string, key: string, value: unknown, ttlMs?: number): Promise<void> {
  const ttl = ttlMs === undefined ? '' : `&ttl=${ttlMs}`
  await sendJson(`${base}/set?k=${encodeURIComponent(key)}${ttl}`, { method: 'POST', body: JSON.stringify(value), headers: { 'content-type': 'application/json' } })
}

/** Reads `/get?k=<key>`: the value, or undefined when absent. */
export async function getKey(base: string, key: string): Promise<unknown> {
  const { value, present } = await sendJson<{ value: unknown; present: boolean }>(`${base}/get?k=${encodeURIComponent(key)}`)
  return present ? value : undefined
}

/** Asserts a crashless JSON error with this status and code. */
export function assertCrashlessError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status}: ${answer.body}`)
  assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, code)
}

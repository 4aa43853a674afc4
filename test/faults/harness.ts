/**
 * Shared pieces of the fault tests: a crashless process serving `faults-app.mjs` under a
 * small config, a bounded benign load that records every answer it gets, and a request
 * helper that can never hang a test.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request, type Dispatcher } from 'undici'
import type { CrashlessConfig } from '../../src/config/index.js'
import { fixture, startCrashless, type CrashlessProcess, type LogLine } from '../helpers/crashless-process.js'

/** Keep-alive connections shared by every request of a test file; closed by `stopAll`. */
export const agent = new Agent({ connections: 32, keepAliveTimeout: 2_000, headersTimeout: 20_000, bodyTimeout: 20_000 })

const cleanups: (() => Promise<unknown> | void)[] = []

/**
 * Starts crashless on `app` (default `faults-app.mjs`) with `config` written to a temp
 * config file, since timeouts and heap limits have no command-line flags.
 */
export async function startWithConfig(config: CrashlessConfig, app = 'faults-app.mjs'): Promise<CrashlessProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'crashless-faults-'))
  const file = join(dir, 'crashless.config.mjs')
  writeFileSync(file, `export default ${JSON.stringify({ ...config, entry: fixture(app) })}\n`)
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const server = await startCrashless(fixture(app), ['--config', file])
  cleanups.push(() => server.stop())
  return server
}

/** Stops every process started here and closes the agent; for `after`. */
export async function stopAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await agent.close()
}

/** One answer, fully read. */
export interface Answer {
  status: number
  body: string
  requestId: string | undefined
  ms: number
}

/** Sends one request through the shared agent and reads the whole answer (bounded by the agent's timeouts). */
export async function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}, dispatcher: Dispatcher = agent): Promise<Answer> {
  const started = performance.now()
  const res = await request(url, { dispatcher, method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body })
  const body = await res.body.text()
  const id = res.headers['x-crashless-request-id']
  return { status: res.statusCode, body, requestId: typeof id === 'string' ? id : undefined, ms: performance.now() - started }
}

/** Asserts a crashless JSON error with this status and code, and returns its request id. */
export function assertCrashlessError(answer: Answer, status: number, code: string): string {
  assert.equal(answer.status, status, `expected ${status} ${code}, got ${answer.status}: ${answer.body}`)
  const parsed = JSON.parse(answer.body) as { error: { code: string; requestId: string; message: string } }
  assert.equal(parsed.error.code, code)
  assert.ok(answer.requestId, 'the error carries x-crashless-request-id')
  assert.equal(parsed.error.requestId, answer.requestId)
  return answer.requestId
}

/** The `error` object of a crashless JSON error. */
export interface CrashlessError {
  code: string
  message: string
  requestId: string
  incidentId?: string
}

/** The error object of a crashless JSON error answer (any status). */
export function crashlessError(answer: Answer): CrashlessError {
  return (JSON.parse(answer.body) as { error: CrashlessError }).error
}

/**
 * Asserts the recovery ladder's verdict on a request no tweak cured: 500 CRASHLESS_ERR_POISON
 * with an incident id. Returns the request and incident ids.
 */
export function assertPoison(answer: Answer): { requestId: string; incidentId: string } {
  const requestId = assertCrashlessError(answer, 500, 'CRASHLESS_ERR_POISON')
  const { incidentId } = crashlessError(answer)
  assert.match(incidentId ?? '', /^inc-\d{8}T\d{6}Z-[0-9a-f]{8}$/, 'the poison verdict names its incident')
  return { requestId, incidentId: incidentId! }
}

/**
 * Sends `url` again after a poison verdict: refused unrun with 500 CRASHLESS_ERR_QUARANTINED
 * quoting the same incident, and no request crashes nor instance is lost meanwhile.
 */
export async function assertRefusedUnrun(server: CrashlessProcess, url: string, incidentId: string, init: Parameters<typeof send>[1] = {}): Promise<void> {
  const before = server.logs.filter((l) => l.event === 'request-crashed' || l.event === 'instance-lost' || l.event === 'ladder-step').length
  const answer = await send(url, init)
  assertCrashlessError(answer, 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal(crashlessError(answer).incidentId, incidentId, 'the refusal quotes the incident that decided it')
  assert.ok(answer.ms < 1_000, `refused after ${answer.ms} ms`)
  assert.equal(server.logs.filter((l) => l.event === 'request-crashed' || l.event === 'instance-lost' || l.event === 'ladder-step').length, before, 'nothing ran')
}

/** The `quarantined` verdict of the ladder for `incidentId`, once it is logged. */
export function waitForVerdict(server: CrashlessProcess, incidentId: string, timeoutMs = 5_000): Promise<LogLine> {
  return server.waitForLog((l) => l.event === 'quarantined' && l.incidentId === incidentId, timeoutMs)
}

/** The tweaks of the `ladder-step` events logged after the `from`-th line, for `signature`. */
export function laddersSince(server: CrashlessProcess, from: number, signature: string): string[] {
  return eventsSince(server, from, 'ladder-step')
    .filter((l) => l.signature === signature)
    .map((l) => l.tweak as string)
}

/** What the benign load saw. */
export interface LoadReport {
  /** Benign requests answered 200 with the right body. */
  ok: number
  /** Everything else, described for the assertion message. */
  failures: string[]
  /** Benign requests that completed while the fault was pending. */
  duringFault: number
  maxMs: number
}

/**
 * Runs `workers` loops of `GET /ok?tag=<unique>` (or `/slow`, answering after `slowMs`,
 * when given) against `url`, starts `fault` once every
 * loop has been answered at least once (so benign requests are in flight when it lands),
 * and stops the loops when the fault has settled. Each loop sends at most `maxPerWorker`
 * requests; every request is bounded by the agent's timeouts. `dispatcher` replaces the shared
 * agent (its 32 connections), e.g. for more concurrent connections.
 */
export async function underBenignLoad<T>(url: string, fault: () => Promise<T>, options: { workers?: number; maxPerWorker?: number; slowMs?: number; dispatcher?: Dispatcher } = {}): Promise<{ fault: T; load: LoadReport }> {
  const workers = options.workers ?? 10
  const maxPerWorker = options.maxPerWorker ?? 500
  const report: LoadReport = { ok: 0, failures: [], duringFault: 0, maxMs: 0 }
  let settled = false
  let faultPending = false
  let warmed = 0
  let allWarm: () => void = () => {}
  const warm = new Promise<void>((resolve) => (allWarm = resolve))

  const loop = async (w: number): Promise<void> => {
    for (let n = 0; n < maxPerWorker && !settled; n++) {
      const tag = `w${w}-${n}`
      try {
        const answer = await send(options.slowMs === undefined ? `${url}/ok?tag=${tag}` : `${url}/slow?tag=${tag}&ms=${options.slowMs}`, {}, options.dispatcher)
        report.maxMs = Math.max(report.maxMs, answer.ms)
        if (answer.status === 200 && answer.body === `${options.slowMs === undefined ? 'ok' : 'slow'} ${tag}`) report.ok++
        else report.failures.push(`${tag}: ${answer.status} ${answer.body}`)
        if (faultPending) report.duringFault++
      } catch (err) {
        report.failures.push(`${tag}: ${(err as Error).message}`)
      }
      if (n === 0 && ++warmed === workers) allWarm()
    }
    if (warmed < workers) allWarm()
  }

  const loops = Array.from({ length: workers }, (_, w) => loop(w))
  await warm
  faultPending = true
  try {
    const result = await fault()
    return { fault: result, load: report }
  } finally {
    faultPending = false
    settled = true
    await Promise.all(loops)
  }
}

/** Asserts that every benign request was answered 200 with its own body. */
export function assertBenignUnharmed(load: LoadReport): void {
  assert.deepEqual(load.failures, [], `${load.failures.length} benign request(s) were harmed (${load.ok} fine)`)
  assert.ok(load.ok > 0, 'benign requests were served')
}

/** Log lines with this event logged after the `from`-th line. */
export function eventsSince(server: CrashlessProcess, from: number, event: string): LogLine[] {
  return server.logs.slice(from).filter((l) => l.event === event)
}

/**
 * Resolves with the `event` lines logged after the `from`-th line once there are `count` of
 * them. The dispatcher answers a request before it logs the loss that decided the answer, so
 * a test that has its answer must still wait for the log.
 */
export async function waitForEvents(server: CrashlessProcess, from: number, event: string, count: number, timeoutMs = 5_000): Promise<LogLine[]> {
  await server.waitForLog((line) => line.event === event && server.logs.indexOf(line) >= from && eventsSince(server, from, event).length >= count, timeoutMs)
  return eventsSince(server, from, event)
}

/** Asserts the service answers a fresh benign request correctly. */
export async function assertStillServing(server: CrashlessProcess): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const answer = await send(`${server.url}/ok?tag=after-${i}`)
    assert.equal(answer.status, 200, answer.body)
    assert.equal(answer.body, `ok after-${i}`)
  }
  assert.equal(server.child.exitCode, null, 'the runtime is still running')
  assert.equal(server.child.signalCode, null, 'the runtime is still running')
}

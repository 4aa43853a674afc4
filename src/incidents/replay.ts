import { fork } from 'node:child_process'
import { replayEntryUrl, type CheckLine, type Finding, type PlaybackReport, type ReplayMessage, type ReplayPlan, type ReplayRequest } from '../host/index.js'
import { classifyFailure } from '../immunity/index.js'
import { CrashlessError } from '../errors.js'
import type { Tape } from '../tape.js'
import type { Incident, IncidentApp } from './incident.js'
import { appDirOf, firstAppFrame } from './stack-frame.js'

/** What a replay found. */
export interface ReplayResult {
  id: string
  /** Same kind, and the same first in-app frame when the incident has one. */
  reproduced: boolean
  expected: { kind: string; frame: string | null }
  got: { kind: string; frame: string | null; status: number | null; error: { name: string; message: string; stack?: string | undefined } | null }
  /** Tape values handed back, and calls the tape had no value for (served live). */
  playback: { replayed: number; beyond: number }
  /** False when the run had no tape: it ran on live values. */
  taped: boolean
  /** The tape was cut at its bounds (a loop drew more than it keeps): calls past its end got live values. */
  cut: boolean
  /** The tape is what a re-run streamed before it ended its instance (`ended`: how; see Tape.streamed), or null. */
  streamed: { ended: string | null } | null
  /** What the checks found (replay-checks.ts); empty when they were off. */
  findings: Finding[]
  /** Every value the request was handed, recorded or live: the tape that replays this run. */
  used: Tape | null
}

/** How one run is set up; everything defaults to the incident as recorded. */
export interface ReplayOptions {
  /** Stop in a debugger: the replay process starts with --inspect-brk on this host:port (checks off). */
  inspect?: string | null
  /** The app's output goes to this process's stderr (off for --json). */
  echo?: boolean
  /** `recorded` (default): the incident's tape; `none`: live values; or another tape. */
  tape?: 'recorded' | 'none' | Tape
  /** Run its recorded neighbours beside it, this many of them started before it. */
  neighboursFirst?: number | null
  /** Environment variables set (a string) or removed (null) for the app. */
  env?: Record<string, string | null>
  /** Another request in its place (a minimised one). */
  request?: ReplayRequest
  /** The checks of replay-checks.ts. Default: on, unless inspecting. */
  checks?: boolean
}

/** The incident's request as a replay takes it. */
export function recordedRequest(incident: Incident): ReplayRequest {
  const r = incident.request
  return { method: r.method, url: r.url, headers: r.headers, body: r.body ?? null, bodyEncoding: r.bodyEncoding ?? 'utf8', session: r.session ?? false }
}

type Ended = Extract<ReplayMessage, { type: 'outcome' }> | { outcome: 'stall' | 'out-of-memory' | 'died'; code: number | null }

/**
 * Re-runs an incident's request against its app in a process of its own (`--max-old-space-size`
 * at the incident's `limits.heapMb`), with the recorded store reads and nondeterminism played
 * back, and compares what happens with what was recorded. A stall is the replay's event loop
 * standing still through the incident's lease; memory running out ends the process (with the
 * checks on, V8 pauses at the limit instead and the checks report where).
 *
 * @example
 * ```ts
 * const result = await replayIncident(await readIncident('.crashless/incidents', id))
 * process.exitCode = result.reproduced ? 0 : 1
 * ```
 */
export async function replayIncident(incident: Incident, options: ReplayOptions = {}): Promise<ReplayResult> {
  const app = incident.app
  if (!app) throw new CrashlessError('CRASHLESS_ERR_REPLAY', `incident ${incident.id} was written by an older crashless and does not say which app it ran: it cannot be replayed`)
  if (incident.kind === 'runtime-lost') throw new CrashlessError('CRASHLESS_ERR_REPLAY', `incident ${incident.id} is a runtime's death: only the request's method and URL survived it`)
  // The request succeeded; another one (the probe, named in the steps) failed after it in the
  // same instance. A replay runs one request in a fresh process: it would say "not reproduced"
  // of a bug that is there.
  if (incident.kind === 'corrupter') throw new CrashlessError('CRASHLESS_ERR_REPLAY', `incident ${incident.id} is a request that corrupts its instance: it succeeds, and a later request fails in the same process (${incident.steps.find((s) => s.failure)?.failure ?? 'see its steps'}); replay runs one request in a fresh process, so it cannot show this. Reproduce it by sending both, in that order, to one process`)
  const tape = options.tape === 'none' ? null : options.tape === undefined || options.tape === 'recorded' ? (incident.tape ?? null) : options.tape
  const neighbours = options.neighboursFirst == null ? [] : (incident.neighbours ?? []).map(neighbourRequest)
  const run = await replayApp(app, { ...options, request: options.request ?? recordedRequest(incident), neighbours, tape })
  const expected = { kind: incident.kind ?? 'unknown', frame: incident.frame ?? null }
  const reproduced = run.got.kind === expected.kind && (expected.frame === null || run.got.frame === expected.frame)
  return { id: incident.id, reproduced, expected, ...run }
}

/** One run of a request against an app, as `crashless/testing` and replayIncident ask for it. */
export interface AppRun {
  request: ReplayRequest
  neighbours?: ReplayRequest[]
  /** How many neighbours start before it. */
  neighboursFirst?: number | null
  tape?: Tape | null
  env?: Record<string, string | null>
  checks?: boolean
  inspect?: string | null
  echo?: boolean
}

/**
 * Runs one request against an app in a replay process (replay-main.ts) and says what happened:
 * `got.kind` is `none` when the app answered (`got.status`), else the failure's kind.
 *
 * @example
 * ```ts
 * const run = await replayApp(incident.app, { request: recordedRequest(incident), tape: incident.tape })
 * run.got.kind // 'crash'
 * ```
 */
export async function replayApp(app: IncidentApp, run: AppRun): Promise<Omit<ReplayResult, 'id' | 'reproduced' | 'expected'>> {
  const tape = run.tape ?? null
  const checks = (run.checks ?? !run.inspect) && !run.inspect
  const plan: ReplayPlan = {
    entry: app.entry,
    style: app.style,
    startTimeoutMs: 10_000,
    requestMs: app.requestMs,
    externalMb: app.externalMb ?? 0,
    sessions: app.sessions,
    request: run.request,
    neighbours: run.neighbours ?? [],
    position: run.neighboursFirst ?? 0,
    tape,
    checks: checks ? { leaseMs: app.leaseMs } : null,
    inspect: Boolean(run.inspect),
  }
  const ended = await runPlan(plan, app.heapMb, app.leaseMs, { inspect: run.inspect ?? null, echo: run.echo ?? false, env: run.env ?? {} })
  const got = describe(ended.outcome, appDirOf(app.entry))
  // A stall or a heap run out sends no outcome: what the replay told as it handed values back.
  const playback = 'playback' in ended.outcome ? ended.outcome.playback : ended.playback
  const used = 'used' in ended.outcome ? ended.outcome.used : null
  return { got, playback, taped: tape !== null, cut: tape?.truncated ?? false, streamed: tape?.streamed ?? null, findings: ended.findings, used }
}

function neighbourRequest(n: NonNullable<Incident['neighbours']>[number]): ReplayRequest {
  return { method: n.method, url: n.url, headers: n.headers ?? [], body: n.body ?? null, bodyEncoding: n.bodyEncoding ?? 'utf8', session: false }
}

async function runPlan(plan: ReplayPlan, heapMb: number, leaseMs: number, options: { inspect: string | null; echo: boolean; env: Record<string, string | null> }): Promise<{ outcome: Ended; findings: Finding[]; playback: PlaybackReport }> {
  const execArgv = [`--max-old-space-size=${heapMb}`, '--enable-source-maps', ...(options.inspect ? [`--inspect-brk=${options.inspect}`] : [])]
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === null) delete env[name]
    else env[name] = value
  }
  const child = fork(replayEntryUrl, [], { execArgv, env, stdio: ['ignore', options.echo ? 'inherit' : 'ignore', 'pipe', 'ipc', 'pipe'], serialization: 'advanced' })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024)
    if (options.echo) process.stderr.write(chunk)
  })
  const findings: Finding[] = []
  let playback: PlaybackReport = { replayed: 0, beyond: 0 }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const outcome = await new Promise<Ended>((resolve) => {
    let lastBeat = 0
    let loaded = false
    let buffered = ''
    const side = child.stdio[4] as NodeJS.ReadableStream
    side.setEncoding('utf8')
    side.on('data', (chunk: string) => {
      buffered += chunk
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, nl)) as CheckLine
        buffered = buffered.slice(nl + 1)
        if (line.type === 'finding') findings.push(line.finding)
        else if (line.type === 'playback') playback = line.playback
        else if (line.type === 'out-of-memory') resolve({ outcome: 'out-of-memory', code: null })
      }
    })
    // Under a debugger the process stands still on purpose: no stall is judged then.
    const watch = options.inspect
      ? null
      : setInterval(() => {
          if (loaded && performance.now() - lastBeat > leaseMs) {
            clearInterval(watch!)
            resolve({ outcome: 'stall', code: null })
          }
        }, 25)
    child.on('message', (message: ReplayMessage) => {
      if (message.type === 'loaded') loaded = true
      if (message.type === 'loaded' || message.type === 'beat') lastBeat = performance.now()
      if (message.type === 'outcome') resolve(message)
    })
    void exited.then((code) => resolve({ outcome: /heap out of memory|Reached heap limit/i.test(stderr) ? 'out-of-memory' : 'died', code }))
    child.send(plan)
    void exited.then(() => watch && clearInterval(watch))
  })
  if ('type' in outcome && child.connected) {
    // It ends itself once its checks have written what they hold.
    child.disconnect()
    await Promise.race([exited, delay(2_000)])
  } else if (outcome.outcome === 'stall' && plan.checks) {
    // The checks sample a stall from half a lease on: give them a moment to report.
    for (let waited = 0; waited < 1_000 && !findings.some((f) => f.check === 'stall'); waited += 25) await delay(25)
  }
  child.kill('SIGKILL')
  await exited
  // The main thread's own findings (prototype pollution) come with its outcome.
  if ('findings' in outcome) findings.push(...outcome.findings)
  return { outcome, findings, playback }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function describe(outcome: Ended, appDir: string): ReplayResult['got'] {
  if (!('how' in outcome)) return { kind: outcome.outcome === 'died' ? 'exit' : outcome.outcome, frame: null, status: null, error: null }
  const error = outcome.error ? { name: outcome.error.name, message: outcome.error.message, stack: outcome.error.stack } : null
  const kind = outcome.outcome === 'response' ? 'none' : outcome.outcome === 'failed' || outcome.outcome === 'start-failed' ? outcome.outcome : classifyFailure(outcome.how, error)
  return { kind, frame: firstAppFrame(error?.stack, appDir), status: outcome.status, error }
}

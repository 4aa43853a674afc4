import { fork } from 'node:child_process'
import { replayEntryUrl, type ReplayMessage, type ReplayPlan } from '../host/index.js'
import { classifyFailure } from '../immunity/index.js'
import { CrashlessError } from '../errors.js'
import type { Incident } from './incident.js'
import { firstAppFrame } from './stack-frame.js'
import { appDirOf } from './stack-frame.js'

/** What a replay found. */
export interface ReplayResult {
  id: string
  /** Same kind, and the same first in-app frame when the incident has one. */
  reproduced: boolean
  expected: { kind: string; frame: string | null }
  got: { kind: string; frame: string | null; status: number | null; error: { name: string; message: string; stack?: string | undefined } | null }
  /** Tape values handed back, and calls the tape had no value for (served live). */
  playback: { replayed: number; beyond: number }
  /** False when no sacrificial re-run recorded a tape: the replay ran on live values. */
  taped: boolean
}

export interface ReplayOptions {
  /** Stop in a debugger: the replay process starts with --inspect-brk on this host:port. */
  inspect?: string | null
  /** The app's output goes to this process's stderr (off for --json). */
  echo?: boolean
}

/**
 * Re-runs an incident's request against its app in a process of its own (`--max-old-space-size`
 * at the incident's `limits.heapMb`), with the recorded store reads and nondeterminism played
 * back, and compares what happens with what was recorded. A stall is the replay's event loop
 * standing still through the incident's lease; memory running out ends the process (V8's
 * message on stderr says so).
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
  const plan: ReplayPlan = {
    entry: app.entry,
    style: app.style,
    startTimeoutMs: 10_000,
    requestMs: app.requestMs,
    sessions: app.sessions,
    request: {
      method: incident.request.method,
      url: incident.request.url,
      headers: incident.request.headers,
      body: incident.request.body ?? null,
      bodyEncoding: incident.request.bodyEncoding ?? 'utf8',
      session: incident.request.session ?? false,
    },
    tape: incident.tape ?? null,
  }
  const execArgv = [`--max-old-space-size=${app.heapMb}`, '--enable-source-maps', ...(options.inspect ? [`--inspect-brk=${options.inspect}`] : [])]
  const child = fork(replayEntryUrl, [], { execArgv, stdio: ['ignore', options.echo ? 'inherit' : 'ignore', 'pipe', 'ipc'], serialization: 'advanced' })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024)
    if (options.echo) process.stderr.write(chunk)
  })
  const outcome = await new Promise<Extract<ReplayMessage, { type: 'outcome' }> | { outcome: 'stall' | 'out-of-memory' | 'died'; code: number | null }>((resolve) => {
    let lastBeat = 0
    let loaded = false
    // Under a debugger the process stands still on purpose: no stall is judged then.
    const watch = options.inspect
      ? null
      : setInterval(() => {
          if (loaded && performance.now() - lastBeat > app.leaseMs) resolve({ outcome: 'stall', code: null })
        }, 25)
    child.on('message', (message: ReplayMessage) => {
      if (message.type === 'loaded') loaded = true
      if (message.type === 'loaded' || message.type === 'beat') lastBeat = performance.now()
      if (message.type === 'outcome') resolve(message)
    })
    child.on('exit', (code) => resolve({ outcome: /heap out of memory|Reached heap limit/i.test(stderr) ? 'out-of-memory' : 'died', code }))
    child.send(plan)
    void child.once('exit', () => watch && clearInterval(watch))
  })
  child.kill('SIGKILL')
  const got = describe(outcome, incident)
  const expected = { kind: incident.kind ?? 'unknown', frame: incident.frame ?? null }
  const reproduced = got.kind === expected.kind && (expected.frame === null || got.frame === expected.frame)
  const playback = 'playback' in outcome ? outcome.playback : { replayed: 0, beyond: 0 }
  return { id: incident.id, reproduced, expected, got, playback, taped: incident.tape != null }
}

function describe(outcome: Extract<ReplayMessage, { type: 'outcome' }> | { outcome: 'stall' | 'out-of-memory' | 'died'; code: number | null }, incident: Incident): ReplayResult['got'] {
  const appDir = appDirOf(incident.app!.entry)
  if (!('how' in outcome)) return { kind: outcome.outcome === 'died' ? 'exit' : outcome.outcome, frame: null, status: null, error: null }
  const error = outcome.error ? { name: outcome.error.name, message: outcome.error.message, stack: outcome.error.stack } : null
  const kind = outcome.outcome === 'response' ? 'none' : outcome.outcome === 'failed' || outcome.outcome === 'start-failed' ? outcome.outcome : classifyFailure(outcome.how, error)
  return { kind, frame: firstAppFrame(error?.stack, appDir), status: outcome.status, error }
}

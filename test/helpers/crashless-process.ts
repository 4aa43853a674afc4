import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root, from dist/test/helpers/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** Absolute path of a fixture app under test/fixtures/. */
export function fixture(name: string): string {
  return `${repoRoot}test/fixtures/${name}`
}

/** A pino log line from the crashless process. */
export interface LogLine {
  level: number
  event?: string
  msg?: string
  [key: string]: unknown
}

/** A `crashless run` child process under test. */
export interface CrashlessProcess {
  child: ChildProcess
  /** The process serving: the runtime the keeper promoted (the child itself with --no-keeper). */
  runtimePid: number
  port: number
  /** http://127.0.0.1:<port> */
  url: string
  /** Its working directory (where `.crashless/` is). */
  cwd: string
  /**
   * Every JSON log line seen so far from the keeper and the runtimes that served, but not from a
   * standby while it stands by (under a keeper a warm standby logs to the same stream, and its
   * events, e.g. an idle instance lost on a starved machine, are not the service's).
   */
  logs: LogLine[]
  /** Every JSON log line, the standby's too. */
  allLogs: LogLine[]
  /** Non-JSON stdout and all stderr, for failure messages. */
  output: () => string
  /** Resolves with the first log line (already seen or future) matching the predicate. */
  waitForLog: (match: (line: LogLine) => boolean, timeoutMs?: number) => Promise<LogLine>
  /** SIGTERM, then resolves with the exit code (SIGKILL after timeoutMs). */
  stop: (timeoutMs?: number) => Promise<number | null>
}

/**
 * Starts `crashless run <entry> --port 0 --admin-port 0 ...args` and resolves once it logs `listening`.
 * Rejects (with the process output) if it exits first. `omitPort` leaves `--port` out, so
 * crashless serves on the port the app asked for.
 */
export async function startCrashless(entry: string, args: string[] = [], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; omitPort?: boolean } = {}): Promise<CrashlessProcess> {
  const portArgs = args.includes('--port') || options.omitPort ? [] : ['--port', '0']
  // The admin endpoint's default port (9300) is one for the whole machine; tests run side by side.
  if (!args.includes('--admin-port')) portArgs.push('--admin-port', '0')
  // A working directory of its own: what crashless keeps there (.crashless/immunity.db: the
  // quarantines it learned) must not leak into other tests, nor into the next run of the suite.
  const ownCwd = options.cwd === undefined ? mkdtempSync(join(tmpdir(), 'crashless-cwd-')) : undefined
  const child = spawn(process.execPath, [`${repoRoot}bin/crashless.js`, 'run', entry, ...portArgs, ...args], {
    cwd: options.cwd ?? ownCwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: LogLine[] = []
  const allLogs: LogLine[] = []
  // Pids the keeper announced as standby, until they log `listening` (promoted).
  const standing = new Set<number>()
  let text = ''
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = []
  let buffered = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const raw = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      let line: LogLine | null = null
      try {
        const parsed = JSON.parse(raw) as unknown
        if (parsed && typeof parsed === 'object' && 'level' in parsed) line = parsed as LogLine
      } catch {
        line = null
      }
      if (!line) {
        text += raw + '\n'
        continue
      }
      allLogs.push(line)
      if (line.event === 'standby-ready' && typeof line.pid === 'number') standing.add(line.pid)
      if (line.event === 'listening' && typeof line.pid === 'number') standing.delete(line.pid)
      if (line.role !== 'keeper' && typeof line.pid === 'number' && standing.has(line.pid)) continue
      logs.push(line)
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(line)
        }
      }
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk
  })
  const exited = once(child, 'exit')
  if (ownCwd) void exited.then(() => rmSync(ownCwd, { recursive: true, force: true }))
  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> => {
    const seen = logs.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a log line; output:\n${text}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs)
      const waiter = {
        match,
        resolve: (line: LogLine) => {
          clearTimeout(timer)
          resolve(line)
        },
      }
      waiters.push(waiter)
      void exited.then(([code]) => {
        clearTimeout(timer)
        if (waiters.includes(waiter)) reject(new Error(`crashless exited (code ${code}) before the log line; output:\n${text}`))
      })
    })
  }
  const listening = await waitForLog((l) => l.event === 'listening', options.timeoutMs ?? 20_000)
  const port = listening.port as number
  return {
    child,
    runtimePid: listening.pid as number,
    cwd: (options.cwd ?? ownCwd)!,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    allLogs,
    output: () => text,
    waitForLog,
    stop: async (timeoutMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const [code] = await exited
      clearTimeout(timer)
      return code as number | null
    },
  }
}

/** Runs `crashless <args>` to completion (for failure cases) and returns exit code and output. */
export async function runCrashlessToExit(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [`${repoRoot}bin/crashless.js`, ...args], { cwd: options.cwd ?? repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/**
 * A process started inside a network namespace (`ip netns exec <ns> <command>`; ip execs the
 * command, so the child's pid is the command's), with its output kept and its JSON log lines
 * parsed, and a way to find every process it started (to kill a whole node by pid).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'

/** A JSON log line (pino). */
export type LogLine = Record<string, unknown> & { event?: string }

/** A process running in a namespace. */
export interface NsProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Every JSON line it printed on stdout so far. */
  readonly logs: LogLine[]
  /** Its other output (stderr, non-JSON stdout), for failure messages. */
  output(): string
  /** Resolves with the first log line (seen or future) matching; rejects on timeout or exit. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** Resolves when it has exited. */
  readonly exited: Promise<void>
  alive(): boolean
}

/**
 * Spawns `command args` in namespace `ns`; its log lines also go to `sink` when given (one list
 * across restarts). Killed processes are the caller's to reap (by pid: see {@link processTree}).
 *
 * @example
 * ```ts
 * const redis = spawnIn(hub, 'redis-server', ['--port', '6379'], { cwd: dir })
 * ```
 */
export function spawnIn(ns: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; sink?: LogLine[] } = {}): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: LogLine[] = []
  let text = ''
  let buffered = ''
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = []
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const raw = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      let line: LogLine | null = null
      if (raw.startsWith('{')) {
        try {
          line = JSON.parse(raw) as LogLine
        } catch {
          line = null
        }
      }
      if (!line) {
        text += raw + '\n'
        continue
      }
      logs.push(line)
      options.sink?.push(line)
      for (const waiter of [...waiters]) {
        if (!waiter.match(line)) continue
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(line)
      }
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
  const exited = once(child, 'exit').then(() => undefined)
  const alive = (): boolean => child.exitCode === null && child.signalCode === null
  return {
    child,
    pid: child.pid!,
    logs,
    output: () => text,
    exited,
    alive,
    waitForLog: (match, timeoutMs = 20_000) => {
      const seen = logs.find(match)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${command} in ${ns}: no such log line within ${timeoutMs} ms; output:\n${text.slice(-4000)}`)), timeoutMs)
        const waiter = { match, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) }
        waiters.push(waiter)
        void exited.then(() => {
          if (!waiters.includes(waiter)) return
          clearTimeout(timer)
          reject(new Error(`${command} in ${ns} exited (${child.exitCode ?? child.signalCode}) before the log line; output:\n${text.slice(-4000)}`))
        })
      })
    },
  }
}

/** `pid` and every process below it, parents first (read from /proc; empty once it is gone). */
export function processTree(pid: number): number[] {
  const out: number[] = []
  const visit = (p: number): void => {
    out.push(p)
    let tasks: string[]
    try {
      tasks = readdirSync(`/proc/${p}/task`)
    } catch {
      return
    }
    for (const task of tasks) {
      let children: string
      try {
        children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8')
      } catch {
        continue
      }
      for (const child of children.split(' ').filter(Boolean)) visit(Number(child))
    }
  }
  visit(pid)
  return out.filter((p) => isAlive(p))
}

/** Whether a process with this pid exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** SIGKILLs `pids` at once (each by its pid), ignoring those already gone. */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Gone already.
    }
  }
}

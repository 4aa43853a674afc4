/**
 * Logs of a real crashless (keeper, runtime and standby all write to one stdout): the default
 * `auto` is one readable coloured line per event when stdout is a terminal (a real pty, made by
 * util-linux's script(1)) and JSON when it is a pipe; `--log-format pretty` forces the former.
 * The flood of refused quarantined requests is in quarantine-flood.test.ts.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fixture, repoRoot } from '../helpers/crashless-process.js'

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g

/** A `crashless run` of the faults app whose whole output is kept as text. */
interface Raw {
  child: ChildProcess
  /** Everything written to stdout so far (on a terminal: stderr too; its CR LF turned into LF). */
  out: () => string
  /** Resolves with the first match of `pattern` in the output without colours (already there or to come). */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>
  /** Stops the keeper (SIGTERM, then SIGKILL) and whatever wraps it. */
  stop: () => Promise<void>
}

/**
 * Starts `crashless run faults-app.mjs` with `args`, its stdout a pipe, or a terminal: script(1)
 * runs it on a new pty and copies what it writes to our pipe. The keeper's pid comes first
 * (the shell prints it and execs into it), so the test stops the keeper itself: a pty closing
 * under it would send SIGHUP, which is a reload to a keeper.
 */
function startRaw(args: string[], terminal: boolean): Raw {
  const cwd = mkdtempSync(join(tmpdir(), 'crashless-log-'))
  const argv = [`${repoRoot}bin/crashless.js`, 'run', fixture('faults-app.mjs'), '--port', '0', '--admin-port', '0', '--instances', '1', ...args]
  const env = { ...process.env, NO_COLOR: '' }
  const quoted = [process.execPath, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  const child = terminal
    ? spawn('script', ['-qfec', `echo "keeper-pid $$"; exec ${quoted}`, '/dev/null'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  let errors = ''
  const waiters = new Set<() => void>()
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk.replaceAll('\r\n', '\n')
    for (const waiter of [...waiters]) waiter()
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk))
  const exited = once(child, 'exit')
  const waitFor = (pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(text.replace(SGR, ''))
        if (!match) return
        done()
        resolve(match)
      }
      const timer = setTimeout(() => (done(), reject(new Error(`timed out waiting for ${pattern}; output:\n${text}\nstderr:\n${errors}`))), timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      void exited.then(() => waiters.has(check) && (done(), reject(new Error(`exited before ${pattern}; output:\n${text}\nstderr:\n${errors}`))))
      check()
    })
  return {
    child,
    out: () => text,
    waitFor,
    stop: async () => {
      const keeper = terminal ? Number(/keeper-pid (\d+)/.exec(text)?.[1]) : child.pid!
      if (child.exitCode === null && child.signalCode === null) {
        if (keeper > 0) process.kill(keeper, 'SIGTERM')
        const timer = setTimeout(() => {
          if (keeper > 0) kill(keeper)
          child.kill('SIGKILL')
        }, 15_000)
        await exited
        clearTimeout(timer)
      }
      rmSync(cwd, { recursive: true, force: true })
    },
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

/** The service's port from a pretty `listening` line. */
async function prettyPort(raw: Raw): Promise<number> {
  return Number((await raw.waitFor(/ INFO {2}listening {2}[^\n]*port=(\d+)/))[1])
}

/** The lines crashless wrote (not the shell's), colours kept. */
function logLines(raw: Raw): string[] {
  return raw
    .out()
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('keeper-pid '))
}

test('on a terminal (auto): coloured readable lines from the keeper and the runtime, never JSON', async () => {
  const raw = startRaw([], true)
  try {
    const port = await prettyPort(raw)
    assert.equal((await fetch(`http://127.0.0.1:${port}/fault/throw?tty=1`)).status, 500)
    await raw.waitFor(/request-crashed[^\n]*→/)
    // The keeper's line once its warm standby is up.
    await raw.waitFor(/ INFO {2}standby-ready {2}[^\n]*role=keeper/)
    const lines = logLines(raw)
    for (const line of lines) assert.doesNotMatch(line, /^\s*\{/, `a JSON line on a terminal: ${line}`)
    // The level is coloured (INFO cyan, WARN yellow), and the keeper's own lines are pretty too.
    assert.ok(raw.out().includes('\x1b[36mINFO \x1b[0m'), raw.out())
    assert.ok(lines.some((line) => line.includes('\x1b[33mWARN \x1b[0m') && line.includes('request-crashed')), raw.out())
    assert.ok(lines.some((line) => /role=keeper/.test(line.replace(SGR, ''))), raw.out())
    const crashed = lines.map((line) => line.replace(SGR, '')).find((line) => / WARN {2}request-crashed {2}/.test(line))!
    assert.match(crashed, /^\d\d:\d\d:\d\d\.\d{3} WARN {2}request-crashed {2}request crashed in i\d+ [^\n]*→ [^\n]* url=\/fault\/throw\?tty=1/)
  } finally {
    await raw.stop()
  }
})

test('on a pipe (auto): one JSON object per line, keeper and runtime alike', async () => {
  const raw = startRaw([], false)
  try {
    const listening = await raw.waitFor(/^\{[^\n]*"event":"listening"[^\n]*\}$/m)
    const port = (JSON.parse(listening[0]) as { port: number }).port
    assert.equal((await fetch(`http://127.0.0.1:${port}/fault/throw?pipe=1`)).status, 500)
    await raw.waitFor(/"event":"request-crashed"/)
    await raw.waitFor(/"role":"keeper"[^\n]*"event":"standby-ready"/)
    const records = logLines(raw).map((line) => {
      assert.doesNotThrow(() => JSON.parse(line), `not JSON on a pipe: ${line}`)
      return JSON.parse(line) as { level: number; event?: string; role?: string }
    })
    assert.ok(records.every((r) => typeof r.level === 'number'))
    assert.ok(records.some((r) => r.role === 'keeper'))
    assert.ok(records.some((r) => r.event === 'request-crashed'))
    assert.doesNotMatch(raw.out(), SGR)
  } finally {
    await raw.stop()
  }
})

test('--log-format pretty on a pipe: readable lines without colours, not JSON', async () => {
  const raw = startRaw(['--log-format', 'pretty'], false)
  try {
    const port = await prettyPort(raw)
    assert.equal((await fetch(`http://127.0.0.1:${port}/fault/throw?pretty=1`)).status, 500)
    await raw.waitFor(/WARN {2}request-crashed {2}request crashed in i\d+ .*→ /)
    for (const line of logLines(raw)) assert.doesNotMatch(line, /^\s*\{/, `a JSON line in pretty mode: ${line}`)
    assert.doesNotMatch(raw.out(), SGR, 'no colours when stdout is not a terminal')
  } finally {
    await raw.stop()
  }
})

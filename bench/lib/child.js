// Spawns a long-running child process with its output appended to a log file, and stops it
// (SIGTERM, then SIGKILL after graceMs). Only ever signals the pid it spawned.
import { spawn } from 'node:child_process'
import fs from 'node:fs'

export function spawnLogged(command, args, { env, logFile, cwd }) {
  const log = fs.openSync(logFile, 'w')
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', log, log] })
  fs.closeSync(log)
  const state = { exited: false, code: null, signal: null }
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      Object.assign(state, { exited: true, code, signal })
      resolve(state)
    })
    child.on('error', (err) => {
      Object.assign(state, { exited: true, error: err })
      resolve(state)
    })
  })
  return { child, state, exited }
}

export async function stopChild(handle, { graceMs = 10_000 } = {}) {
  if (handle.state.exited) return handle.state
  handle.child.kill('SIGTERM')
  const timer = setTimeout(() => {
    if (!handle.state.exited) handle.child.kill('SIGKILL')
  }, graceMs)
  const state = await handle.exited
  clearTimeout(timer)
  return state
}

/** Last lines of a log file, for error messages. */
export function tailFile(file, lines = 15) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

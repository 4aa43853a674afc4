// A private PM2 daemon for one bench run: PM2_HOME is a fresh temp dir, so the bench never talks to
// (or kills) any other PM2 daemon on the machine. `kill()` stops this daemon and removes its home;
// it is registered with the cleanup registry, so it also runs on error, SIGINT and timeout.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { onCleanup } from './cleanup.js'
import { REPO_DIR } from './paths.js'

const PM2_BIN = path.join(REPO_DIR, 'node_modules', 'pm2', 'bin', 'pm2')

export function createPm2Daemon() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'crashless-bench-pm2-'))
  let used = false

  function run(args, extraEnv = {}) {
    used = true
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [PM2_BIN, ...args],
        { cwd: REPO_DIR, env: { ...process.env, ...extraEnv, PM2_HOME: home }, timeout: 60_000, maxBuffer: 64 << 20 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`pm2 ${args.join(' ')} failed: ${err.message}\n${stderr}`))
          else resolve(stdout)
        },
      )
    })
  }

  /** Processes of this daemon: [{ name, pmId, pid, status, restarts }]. */
  async function list() {
    const out = await run(['jlist'])
    const json = out.slice(out.indexOf('['))
    return JSON.parse(json).map((p) => ({
      name: p.name,
      pmId: p.pm_id,
      pid: p.pid,
      status: p.pm2_env?.status,
      restarts: p.pm2_env?.restart_time ?? 0,
      unstableRestarts: p.pm2_env?.unstable_restarts ?? 0,
    }))
  }

  /** The daemon's pid (from PM2_HOME/pm2.pid), or undefined before it runs. */
  function pid() {
    try {
      const n = Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8').trim())
      return Number.isInteger(n) && n > 0 ? n : undefined
    } catch {
      return undefined
    }
  }

  let killed = false
  async function kill() {
    if (killed) return
    killed = true
    unregister()
    try {
      if (used) await run(['kill'])
    } finally {
      fs.rmSync(home, { recursive: true, force: true })
    }
  }
  const unregister = onCleanup(kill)

  return { home, run, list, pid, kill }
}

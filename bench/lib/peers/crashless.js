// Peer "crashless": `node <root>/bin/crashless.js run <app> --port <n> --instances <n>`, where root
// is the repo (needs `npm run build`) or a snapshot of its build (see ../crashless-snapshot.js).
// Its pino JSON log lines go to a scratch log file; its cwd is a fresh directory under the
// (git-ignored) scratch dir, so every run starts with no learned immunity and an empty store.
// `crashlessConfig` (optional, a plain JSON-able object) is written to that dir as
// crashless.config.mjs and passed with --config (e.g. { limits: { heapMb: 128 } }). `env` (optional)
// adds variables to the environment of crashless and so of the app. `waitStandby` (optional) waits
// for the keeper's warm standby to be ready too before the peer counts as started.
import fs from 'node:fs'
import path from 'node:path'
import { onCleanup } from '../cleanup.js'
import { spawnLogged, stopChild, tailFile } from '../child.js'
import { countLogEvents } from '../log-events.js'
import { REPO_DIR, SCRATCH_DIR, scratchFile } from '../paths.js'
import { childPids } from '../resources.js'
import { waitReady } from '../wait-ready.js'

/** Why crashless cannot be benchmarked right now, or undefined when it can. */
export function crashlessUnavailable(root = REPO_DIR) {
  if (!fs.existsSync(path.join(root, 'bin', 'crashless.js'))) return 'bin/crashless.js does not exist yet'
  if (!fs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) return 'dist/ missing: run `npm run build`'
  return undefined
}

export async function startCrashlessPeer({ app, port, readyPath, tag, instances, runtimes, crashlessRoot = REPO_DIR, crashlessConfig, env = {}, waitStandby = false }) {
  const why = crashlessUnavailable(crashlessRoot)
  if (why) throw new Error(`crashless not available: ${why}`)
  const logFile = scratchFile(`${tag}-crashless.log`)
  const args = [path.join(crashlessRoot, 'bin', 'crashless.js'), 'run', app, '--port', String(port)]
  if (instances !== undefined) args.push('--instances', String(instances))
  if (runtimes !== undefined) args.push('--runtimes', String(runtimes))
  const cwd = fs.mkdtempSync(path.join(SCRATCH_DIR, `${tag}-crashless-`))
  if (crashlessConfig !== undefined) {
    const configFile = path.join(cwd, 'crashless.config.mjs')
    fs.writeFileSync(configFile, `export default ${JSON.stringify(crashlessConfig, null, 2)}\n`)
    args.push('--config', configFile)
  }
  const handle = spawnLogged(process.execPath, args, {
    cwd,
    // PORT too: the unmodified script listens on process.env.PORT, and crashless captures that listen.
    env: { ...process.env, ...env, PORT: String(port) },
    logFile,
  })
  const stop = async () => {
    unregister()
    // crashless drains on SIGTERM before exiting; SIGKILL only if that takes over 15 s.
    await stopChild(handle, { graceMs: 15_000 })
    fs.rmSync(cwd, { recursive: true, force: true })
  }
  const unregister = onCleanup(stop)
  try {
    await waitReady(`http://127.0.0.1:${port}${readyPath}`, { alive: () => !handle.state.exited })
    // Several runtimes: the others may still be starting when the first answers.
    if (runtimes > 1) await waitFor(() => listeningPids(logFile).length >= runtimes, 60_000, `${runtimes} runtimes listening`)
  } catch (err) {
    await stop()
    throw new Error(`crashless peer did not start: ${err.message}\n${tailFile(logFile)}`, { cause: err })
  }
  // `waitStandby`: measure the steady state, not the keeper starting its warm standby runtime
  // (every instance of the app loading a second time) in the first seconds of the load.
  if (waitStandby) await waitForLine(logFile, '"standby-ready"', 20_000, () => !handle.state.exited)
  // One process (instances are worker threads); its child processes too, should it have any.
  const pids = () => [handle.child.pid, ...childPids(handle.child.pid)]
  // exited(): the process's end ({ code, signal }) if it died on its own, else null (memory.js counts deaths).
  const exited = () => (handle.state.exited ? { code: handle.state.code, signal: handle.state.signal } : null)
  // The active runtime's pid: its `listening` line (under a keeper the runtime is a child process;
  // with --no-keeper it is the process itself).
  const runtimePid = () => lastListeningPid(logFile) ?? handle.child.pid
  // Every runtime serving (one per slot: the last to listen in each).
  const runtimePids = () => listeningPids(logFile)
  return { kind: 'crashless', port, instances, logFile, runtimePid, runtimePids, info: async () => ({ pid: handle.child.pid, events: countLogEvents(logFile) }), pids, exited, stop }
}

/** The pid serving each slot: the last `listening` line per `runtime` (one runtime: no slot, one pid). */
function listeningPids(logFile) {
  const bySlot = new Map()
  for (const entry of listeningLines(logFile)) bySlot.set(entry.runtime ?? 1, entry.pid)
  return [...bySlot.values()]
}

function listeningLines(logFile) {
  let text = ''
  try {
    text = fs.readFileSync(logFile, 'utf8')
  } catch {
    return []
  }
  const lines = []
  for (const line of text.split('\n')) {
    if (!line.includes('"listening"')) continue
    try {
      const entry = JSON.parse(line)
      if (entry.event === 'listening' && entry.role !== 'keeper' && typeof entry.pid === 'number') lines.push(entry)
    } catch {
      // not a JSON log line
    }
  }
  return lines
}

async function waitFor(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Resolves once `logFile` contains `needle` (or after `ms`, or when `alive()` turns false). */
async function waitForLine(logFile, needle, ms, alive) {
  const deadline = performance.now() + ms
  while (performance.now() < deadline && alive()) {
    try {
      if (fs.readFileSync(logFile, 'utf8').includes(needle)) return
    } catch {
      // not written yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function lastListeningPid(logFile) {
  let pid = null
  let text = ''
  try {
    text = fs.readFileSync(logFile, 'utf8')
  } catch {
    return null
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"listening"')) continue
    try {
      const entry = JSON.parse(line)
      if (entry.event === 'listening' && entry.role !== 'keeper' && typeof entry.pid === 'number') pid = entry.pid
    } catch {
      // not a JSON log line
    }
  }
  return pid
}

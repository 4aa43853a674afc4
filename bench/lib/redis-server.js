// A private redis-server for a bench run: a free loopback port, no persistence, its data dir in
// a temp dir; stopped by its own pid (SIGTERM, then SIGKILL) through the cleanup registry.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { onCleanup } from './cleanup.js'
import { freePort } from './free-port.js'

const BINARY = process.env.CRASHLESS_REDIS_SERVER ?? 'redis-server'

/** Starts redis-server and resolves { url, port, pid, stop } once it accepts connections. */
export async function startRedisServer({ timeoutMs = 10_000 } = {}) {
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crashless-bench-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no']
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  let output = ''
  const stop = async () => {
    unregister()
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const unregister = onCleanup(stop)
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs)
      const done = (err) => {
        clearTimeout(timer)
        err ? reject(err) : resolve()
      }
      child.once('error', (err) => done(new Error(`cannot start ${BINARY} (install redis-server or set CRASHLESS_REDIS_SERVER): ${err.message}`)))
      child.once('exit', (code) => done(new Error(`redis-server exited (code ${code}) before it was ready:\n${output}`)))
      const collect = (chunk) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) done()
      }
      child.stdout.on('data', collect)
      child.stderr.on('data', collect)
    })
  } catch (err) {
    await stop()
    throw err
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid, stop }
}

/**
 * The keeper's bounds and its own death, with real processes: restart intensity exhausted, a
 * reload whose new version cannot start, a keeper killed with SIGKILL, and --no-keeper.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fixture, repoRoot, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { get, until, writeConfig } from './harness.js'

const started: CrashlessProcess[] = []
const cleanups: (() => void)[] = []
after(async () => {
  await Promise.all(started.map((s) => s.stop()))
  for (const cleanup of cleanups) cleanup()
})

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('more runtime deaths than keeper.intensity within keeper.periodMs: the keeper exits 1 and names them', async () => {
  const config = writeConfig({ keeper: { intensity: 1, periodMs: 60_000 } })
  cleanups.push(config.cleanup)
  const server = await startCrashless(fixture('keeper-app.mjs'), ['--instances', '1', '--config', config.file])
  started.push(server)
  const exited = once(server.child, 'exit')
  await server.waitForLog((l) => l.event === 'standby-ready')
  process.kill(server.runtimePid, 'SIGKILL')
  const promoted = await server.waitForLog((l) => l.event === 'runtime-promoted')
  process.kill(promoted.pid as number, 'SIGKILL')
  const [code] = (await exited) as [number | null]
  assert.equal(code, 1)
  assert.match(server.output(), /giving up: 2 runtime deaths within 60000 ms \(keeper\.intensity is 1\); last: runtime \d+: signal SIGKILL; runtime \d+: signal SIGKILL/)
  const gaveUp = server.logs.find((l) => l.event === 'keeper-gave-up')
  assert.equal(gaveUp?.code, 'CRASHLESS_ERR_RESTART_INTENSITY')
  for (const line of server.logs.filter((l) => l.event === 'listening' || l.event === 'standby-ready')) {
    await until(() => !isAlive(line.pid as number), `runtime ${line.pid} exits with its keeper`, 5_000)
  }
})

test('instances lost with nobody to blame: the component is rebooted past recovery.intensity, and past recovery.runtimeIntensity the standby takes over, the old runtime drains', async () => {
  const config = writeConfig({ recovery: { intensity: 1, periodMs: 60_000, runtimeIntensity: 1 } })
  cleanups.push(config.cleanup)
  const server = await startCrashless(fixture('keeper-app.mjs'), ['--instances', '1', '--config', config.file], { env: { BACKGROUND_CRASH_MS: '1200' } })
  started.push(server)
  const first = server.runtimePid
  const rebooted = await server.waitForLog((l) => l.event === 'reboot' && l.pid === first, 20_000)
  assert.equal(rebooted.scope, 'component')
  assert.match(rebooted.why as string, /^more than 1 instances of default lost with no request to blame within 60000 ms; last: crash Error: background job failed/)
  const escalated = await server.waitForLog((l) => l.event === 'escalate' && l.pid === first, 20_000)
  assert.equal(escalated.scope, 'runtime')
  assert.match(escalated.why as string, /^more than 1 reboots of components and groups within 60000 ms \(recovery\.runtimeIntensity\); last: more than 1 instances of default lost with no request to blame within 60000 ms; last: crash Error: background job failed/)
  const replaced = await server.waitForLog((l) => l.event === 'runtime-replaced')
  assert.equal(replaced.previous, first)
  await server.waitForLog((l) => l.event === 'stopped' && l.pid === first)
  const answer = await get(`${server.url}/pid`)
  assert.equal(answer.status, 200)
  assert.notEqual(Number(answer.body), first)
})

test('a runtime that takes longer than keeper.leaseMs to start is not judged silent once ready', async () => {
  const config = writeConfig({ keeper: { leaseMs: 500 } })
  cleanups.push(config.cleanup)
  const server = await startCrashless(fixture('keeper-app.mjs'), ['--instances', '1', '--config', config.file], { env: { START_DELAY_MS: '1500' } })
  started.push(server)
  await server.waitForLog((l) => l.event === 'standby-ready')
  // Two leases after both became ready: a keeper still counting from the spawn would have
  // killed them by now (it once killed a reload's new runtime right after promoting it).
  await get(`${server.url}/slow?ms=1000`)
  assert.equal(Number((await get(`${server.url}/pid`)).body), server.runtimePid)
  assert.deepEqual(server.allLogs.filter((l) => l.event === 'runtime-unresponsive'), [])
})

test('a reload whose new version cannot load leaves the running one serving, and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crashless-reload-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const app = join(dir, 'app.mjs')
  copyFileSync(fixture('keeper-app.mjs'), app)
  const server = await startCrashless(app, ['--instances', '1'])
  started.push(server)
  const before = Number((await get(`${server.url}/pid`)).body)
  await server.waitForLog((l) => l.event === 'standby-ready')
  writeFileSync(app, 'export default {{ broken\n')
  const admin = server.logs.find((l) => l.event === 'admin-listening')!.port as number
  const cli = spawn(process.execPath, [`${repoRoot}bin/crashless.js`, 'reload', '--admin', `http://127.0.0.1:${admin}`, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  cli.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
  const [cliCode] = (await once(cli, 'exit')) as [number | null]
  assert.equal(cliCode, 0, out)
  assert.deepEqual(JSON.parse(out), { reload: 'started' })
  const failed = await server.waitForLog((l) => l.event === 'reload-failed')
  assert.match(server.output(), /cannot load app .*app\.mjs: SyntaxError/)
  assert.ok(typeof failed.pid === 'number')
  const after = await get(`${server.url}/pid`)
  assert.equal(after.status, 200)
  assert.equal(Number(after.body), before, 'the running version still serves')
  // Its standby dies too: the next cannot load the code on disk, and that is retried later, not
  // counted as a death (which would end a service that is serving fine).
  const standby = server.logs.find((l) => l.event === 'standby-ready')!.pid as number
  process.kill(standby, 'SIGKILL')
  const retry = await server.waitForLog((l) => l.event === 'standby-start-failed')
  assert.equal(retry.retryMs, 1_000)
  assert.equal(Number((await get(`${server.url}/pid`)).body), before)
  assert.equal(server.child.exitCode, null)
})

test('SIGHUP to the whole process group (a closed terminal) reloads; no runtime dies of it; SIGTERM then stops all', async () => {
  const child = spawn(process.execPath, [`${repoRoot}bin/crashless.js`, 'run', fixture('keeper-app.mjs'), '--port', '0', '--admin-port', '0', '--instances', '1'], {
    cwd: mkdtempSync(join(tmpdir(), 'crashless-cwd-')),
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const events: { event?: string }[] = []
  const waiters: (() => void)[] = []
  let buffered = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      if (line.startsWith('{')) events.push(JSON.parse(line) as { event?: string })
      for (const wake of waiters.splice(0)) wake()
    }
  })
  const exited = once(child, 'exit')
  const seen = async (event: string): Promise<void> => {
    while (!events.some((e) => e.event === event)) await new Promise<void>((resolve) => waiters.push(resolve))
  }
  await seen('standby-ready')
  process.kill(-child.pid!, 'SIGHUP')
  await seen('reloaded')
  child.kill('SIGTERM')
  const [code] = (await exited) as [number | null]
  assert.equal(code, 0)
  assert.equal(events.filter((e) => e.event === 'runtime-died' || e.event === 'standby-died').length, 0)
})

/** The pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // The command may hold spaces and parentheses: the fields after its closing ')' are fixed.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid
      } catch {
        return false
      }
    })
    .map(Number)
}

test('a keeper killed with SIGKILL takes its runtimes with it, one still starting too: no orphan', async () => {
  const server = await startCrashless(fixture('keeper-app.mjs'), ['--instances', '1'])
  started.push(server)
  // Right after `listening` the standby is still loading the app: the case that once leaked.
  const runtimes = childrenOf(server.child.pid!)
  assert.ok(runtimes.includes(server.runtimePid))
  assert.equal(runtimes.length, 2, 'the active runtime and the standby starting')
  server.child.kill('SIGKILL')
  for (const pid of runtimes) await until(() => !isAlive(pid), `runtime ${pid} exits once its keeper is gone`, 10_000)
  await assert.rejects(get(`${server.url}/ok`), /ECONNREFUSED/)
})

test('--no-keeper: one process serves, as embedded', async () => {
  const server = await startCrashless(fixture('keeper-app.mjs'), ['--instances', '1', '--no-keeper'])
  started.push(server)
  assert.equal(server.runtimePid, server.child.pid)
  assert.equal(Number((await get(`${server.url}/pid`)).body), server.child.pid)
  assert.equal(server.logs.some((l) => l.role === 'keeper'), false)
})

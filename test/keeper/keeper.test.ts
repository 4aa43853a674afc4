/**
 * The keeper with real processes: the active runtime killed under load, a runtime whose main
 * thread stops, a reload under load, and SIGTERM. One crashless for the file, in order: each
 * case leaves a keeper with a fresh active runtime and a standby.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { get, startLoad, summarize, until, writeConfig } from './harness.js'

const USERS = 40
let server: CrashlessProcess
let config: ReturnType<typeof writeConfig>

before(async () => {
  config = writeConfig({ keeper: { leaseMs: 1_000 }, timeouts: { drainMs: 5_000 } })
  server = await startCrashless(fixture('keeper-app.mjs'), ['--instances', '1', '--config', config.file])
})
after(async () => {
  await server?.stop()
  config?.cleanup()
})

/** The pid of the runtime answering now. */
async function servingPid(): Promise<number> {
  const res = await get(`${server.url}/pid`)
  assert.equal(res.status, 200, res.body)
  return Number(res.body)
}

/** Polls the admin endpoint's /health until `n` requests are in flight (bounded). */
async function untilPending(n: number): Promise<void> {
  const admin = server.logs.findLast((l) => l.event === 'admin-listening')!.port as number
  for (let i = 0; i < 200; i++) {
    const res = await get(`http://127.0.0.1:${admin}/health`)
    if ((JSON.parse(res.body) as { pending: number }).pending >= n) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`never ${n} request(s) in flight`)
}

/** Waits for the n-th log line with this event (1-based), counting from the start. */
async function nth(event: string, n: number, timeoutMs = 20_000): Promise<unknown> {
  const all = (): typeof server.logs => server.logs.filter((l) => l.event === event)
  await server.waitForLog(() => all().length >= n, timeoutMs)
  return all()[n - 1]
}

test('kill -9 of the active runtime under load: the standby serves, no connection is refused', async (t) => {
  await nth('standby-ready', 1)
  const victim = await servingPid()
  assert.equal(victim, server.runtimePid)
  const load = startLoad(`${server.url}/pid`, USERS)
  await until(() => load.completions.length > 500, '500 requests done')
  const killedAt = performance.now()
  process.kill(victim, 'SIGKILL')
  const promoted = (await nth('runtime-promoted', 1)) as { pid: number; ms: number }
  const byStandby = (c: { status: number | null; body: string }): boolean => c.status === 200 && c.body === String(promoted.pid)
  await until(() => load.completions.some(byStandby), 'a success from the promoted standby')
  const completions = await load.stop()
  const firstOk = completions.find(byStandby)!
  const counts = summarize(completions)
  t.diagnostic(`promoted in ${promoted.ms} ms; first success ${Math.round(firstOk.at - killedAt)} ms after the kill; ${JSON.stringify(counts)}`)
  assert.equal(counts.refused, 0, 'the socket stayed open: nothing refused')
  // Only requests on connections the dead runtime had open are lost: at most one per client.
  assert.ok(counts.failed <= USERS, `failed ${counts.failed} > ${USERS} clients`)
  assert.notEqual(await servingPid(), victim)
  assert.equal(promoted.pid, await servingPid())
})

test('a runtime whose main thread stops is killed after keeper.leaseMs and replaced', async () => {
  await nth('standby-ready', 2)
  const stuck = await servingPid()
  // SIGSTOP: its event loop stands still (as a dispatcher in a loop would), its process lives.
  process.kill(stuck, 'SIGSTOP')
  // On a starved machine a standby may miss its beats too: the line that matters is the stuck one's.
  await server.waitForLog((l) => l.event === 'runtime-unresponsive' && l.pid === stuck)
  await nth('runtime-promoted', 2)
  assert.notEqual(await servingPid(), stuck)
})

test('reload under load (SIGHUP): a new runtime takes over and no request fails', async (t) => {
  await nth('standby-ready', 3)
  const before = await servingPid()
  const load = startLoad(`${server.url}/ok`, 20)
  await until(() => load.completions.length > 300, '300 requests done')
  server.child.kill('SIGHUP')
  const reloaded = (await nth('reloaded', 1)) as { pid: number; previous: number; time: string }
  assert.equal(reloaded.previous, before)
  const reloadedAt = performance.now()
  // The old runtime drains: it must be gone, and the load must have gone on, before counting.
  await server.waitForLog((l) => l.event === 'stopped' && l.pid === before)
  await until(() => load.completions.filter((c) => c.at > reloadedAt).length > 300, '300 requests after the reload')
  const completions = await load.stop()
  const counts = summarize(completions)
  const failures = completions.filter((c) => c.status !== 200).map((c) => `${c.error ?? c.status} at ${Math.round(c.at - reloadedAt)} ms`)
  t.diagnostic(JSON.stringify(counts))
  const since = Date.parse(reloaded.time as string) - 2_000
  const story = server.allLogs.filter((l) => l.event && Date.parse(l.time as string) >= since).map((l) => `${Date.parse(l.time as string) - since - 2_000} ${l.event} ${l.pid ?? ''}${l.drained === undefined ? '' : ` drained=${l.drained}`}`)
  assert.equal(counts.failed, 0, `failed, relative to the reloaded line: ${failures.slice(0, 10).join(', ')}; log (ms from reloaded): ${story.join(' | ')}`)
  assert.equal(await servingPid(), reloaded.pid)
})

test('SIGTERM to the keeper lets a request in flight finish, then every process exits 0', async () => {
  const runtimes = server.logs.filter((l) => l.event === 'standby-ready' || l.event === 'listening').map((l) => l.pid as number)
  const slow = get(`${server.url}/slow?ms=1000`)
  await untilPending(1)
  const code = await server.stop()
  assert.equal(code, 0)
  const res = await slow
  assert.equal(res.status, 200)
  for (const pid of runtimes) assert.throws(() => process.kill(pid, 0), /ESRCH/, `runtime ${pid} outlived its keeper`)
})

/**
 * Several runtimes under one keeper (issue 14.3), with real processes: `--runtimes 2` serves from
 * both, the admin endpoint covers both, a poison quarantined by one is refused by both, and a
 * kill -9 of one loses only what it had in flight while the other serves on and the standby takes
 * the dead one's slot. One crashless for the file, in order; `--no-keeper` with two is refused.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess, type LogLine } from '../helpers/crashless-process.js'
import { runCli } from '../admin/run-cli.js'
import { get, startLoad, summarize, until, writeConfig } from './harness.js'

const USERS = 20
let server: CrashlessProcess
let config: ReturnType<typeof writeConfig>
let admin = ''

before(async () => {
  config = writeConfig({ runtimes: 2, instances: 1, keeper: { leaseMs: 1_000 }, timeouts: { drainMs: 5_000 } })
  server = await startCrashless(fixture('keeper-state-app.mjs'), ['--config', config.file])
  await server.waitForLog((l) => l.event === 'standby-ready', 30_000)
  admin = `http://127.0.0.1:${server.logs.findLast((l) => l.event === 'admin-listening')!.port as number}`
})
after(async () => {
  await server?.stop()
  config?.cleanup()
})

/** The runtimes serving now, by slot, from their `listening` lines. */
function serving(): Map<number, number> {
  const slots = new Map<number, number>()
  const dead = new Set(server.logs.filter((l) => l.event === 'runtime-died').map((l) => l.pid as number))
  for (const line of server.logs) if (line.event === 'listening' && !dead.has(line.pid as number)) slots.set(line.runtime as number, line.pid as number)
  return slots
}

/** `path` on fresh connections (the kernel picks a runtime per connection) until `done`, at most `max` times. */
async function spread<T>(path: string, max: number, each: (res: { status: number; body: string }) => T, done: (seen: T[]) => boolean): Promise<T[]> {
  const seen: T[] = []
  for (let i = 0; i < max && !done(seen); i++) seen.push(each(await get(`${server.url}${path}`)))
  return seen
}

/** Prometheus text: the value of `name{...labels}` (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'))
    if (Object.entries(labels).every(([k, v]) => inside.split(',').includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

test('--runtimes 2: both runtimes serve; /health, /instances, /metrics and crashless status cover both', async () => {
  const slots = serving()
  assert.deepEqual([...slots.keys()].sort(), [1, 2])
  const pids = await spread('/pid', 200, (res) => (JSON.parse(res.body) as { pid: number }).pid, (seen) => new Set(seen).size === 2)
  assert.deepEqual(new Set(pids), new Set(slots.values()), 'new connections reached both runtimes')

  const health = JSON.parse((await get(`${admin}/health`)).body) as { runtimes: number; instances: { active: number } }
  assert.equal(health.runtimes, 2)
  assert.equal(health.instances.active, 2, 'one serving instance each, summed')
  const instances = JSON.parse((await get(`${admin}/instances`)).body) as { runtimes: { runtime: number; pid: number }[] }
  assert.deepEqual(instances.runtimes.map((r) => [r.runtime, r.pid]), [...slots].sort((a, b) => a[0] - b[0]))
  const metrics = (await get(`${admin}/metrics`)).body
  for (const slot of ['1', '2']) assert.ok((sample(metrics, 'crashless_http_requests_total', { class: '2xx', runtime: slot }) ?? 0) > 0, `runtime ${slot} counted its 2xx`)
  assert.equal(sample(metrics, 'crashless_runtime_promotions_total', { reason: 'start' }), 2, 'the keeper\'s counts once, without a runtime label')

  const status = await runCli(['status', '--admin', admin])
  assert.equal(status.code, 0, status.stderr)
  for (const [slot, pid] of slots) assert.match(status.stdout, new RegExp(`^runtime ${slot} \\(pid ${pid}\\) up`, 'm'))
})

test('a poison quarantined via one runtime is refused by the other: copies on new connections hit both, all refused', async (t) => {
  const slots = serving()
  // An error escaping in a timer: the ladder of whichever runtime gets it quarantines it.
  assert.equal((await get(`${server.url}/boom`)).status, 500)
  const quarantined = await server.waitForLog((l) => l.event === 'quarantined' && l.signature === 'GET /boom #-', 30_000)
  const other = [...slots.values()].find((pid) => pid !== quarantined.pid)!
  const relayed = (await server.waitForLog((l) => l.event === 'immunity-relayed' && l.pid === other && l.signature === 'GET /boom #-')) as LogLine & { delayMs: number }
  assert.equal(relayed.from, quarantined.pid)
  assert.equal(relayed.verdict, 'quarantine')

  // Each runtime logs the first refusal of a signature at once (later ones are folded): that line
  // says which runtime refused, with no wait for /metrics, whose answer is cached for 500 ms.
  const from = server.logs.length
  const refusedBy = (): Set<unknown> => new Set(server.logs.slice(from).filter((l) => l.event === 'quarantine-hit' && l.signature === 'GET /boom #-').map((l) => l.pid))
  const codes: string[] = []
  for (let round = 0; round < 20 && refusedBy().size < 2; round++) {
    for (let i = 0; i < 5; i++) {
      const res = await get(`${server.url}/boom`)
      codes.push(`${res.status} ${(JSON.parse(res.body) as { error?: { code: string } }).error?.code}`)
    }
  }
  const refusing = refusedBy()
  t.diagnostic(`quarantined by ${quarantined.pid}; runtime ${other} learned it ${relayed.delayMs} ms later (keeper relay); ${codes.length} copies, refused by ${[...refusing].join(' and ')}`)
  assert.deepEqual(refusing, new Set([...slots.values()]), 'both runtimes refused copies')
  assert.deepEqual(new Set(codes), new Set(['500 CRASHLESS_ERR_QUARANTINED']), 'every copy refused unrun')
})

test('kill -9 of one runtime under load: only its in-flight requests fail, the other serves on, the standby takes the slot', async (t) => {
  const slots = serving()
  const [victimSlot, victim] = [...slots].find(([slot]) => slot === 2)!
  const survivor = slots.get(1)!
  const load = startLoad(`${server.url}/pid`, USERS)
  await until(() => new Set(load.completions.filter((c) => c.status === 200).map((c) => c.body)).size === 2 && load.completions.length > 300, 'both runtimes busy')
  const killedAt = performance.now()
  process.kill(victim, 'SIGKILL')
  const died = await server.waitForLog((l) => l.event === 'runtime-died' && l.pid === victim)
  const promoted = await server.waitForLog((l) => l.event === 'runtime-promoted' && l.slot === victimSlot)
  // The load's keep-alive connections stay where they are: new ones find the promoted runtime.
  const fresh = await spread('/pid', 200, (res) => (JSON.parse(res.body) as { pid: number }).pid, (seen) => seen.includes(promoted.pid as number))
  assert.ok(fresh.includes(promoted.pid as number), 'the promoted standby serves new connections')
  const afterKill = load.completions.length
  await until(() => load.completions.length > afterKill + 200, '200 more requests')
  const completions = await load.stop()
  const counts = summarize(completions)
  const since = completions.filter((c) => c.at > killedAt)
  const bySurvivor = since.filter((c) => c.status === 200 && JSON.parse(c.body).pid === survivor).length
  t.diagnostic(`died with ${died.inFlight as number} in flight; promoted in ${promoted.ms as number} ms; after the kill the load got ${bySurvivor} answers from the survivor; ${JSON.stringify(counts)}`)
  assert.equal(counts.refused, 0, 'the socket stayed open: nothing refused')
  assert.ok(counts.failed <= USERS, `failed ${counts.failed} > ${USERS} clients: more than what the dead runtime had in flight`)
  for (const c of completions) if (c.status !== null) assert.equal(c.status, 200, 'no request answered with an error: failures are connections reset')
  assert.ok(bySurvivor > 0, 'the surviving runtime served on')
  const now = serving()
  assert.equal(now.get(1), survivor)
  assert.equal(now.get(2), promoted.pid)
  const instances = JSON.parse((await get(`${admin}/instances`)).body) as { runtimes: { pid: number }[] }
  assert.deepEqual(instances.runtimes.map((r) => r.pid), [survivor, promoted.pid])
  // A standby again, for the next death.
  await server.waitForLog((l) => l.event === 'standby-ready' && l.pid !== promoted.pid && Date.parse(l.time as string) > Date.parse(died.time as string), 30_000)
})

/** Waits for the n-th log line with this event (1-based), counting from the start. */
async function nth(event: string, n: number, timeoutMs = 30_000): Promise<LogLine> {
  const all = (): LogLine[] => server.logs.filter((l) => l.event === event)
  await server.waitForLog(() => all().length >= n, timeoutMs)
  return all()[n - 1]!
}

test('a reload under load replaces both runtimes one at a time, and no request fails', async (t) => {
  const before = serving()
  const load = startLoad(`${server.url}/pid`, USERS)
  await until(() => load.completions.length > 200, '200 requests done')
  server.child.kill('SIGHUP')
  const first = await nth('reloaded', 1)
  const second = await nth('reloaded', 2)
  assert.deepEqual([first.slot, second.slot], [1, 2], 'lowest slot first, one at a time')
  assert.deepEqual([first.previous, second.previous], [before.get(1), before.get(2)])
  for (const pid of before.values()) await server.waitForLog((l) => l.event === 'stopped' && l.pid === pid)
  const reloadedAt = performance.now()
  await until(() => load.completions.filter((c) => c.at > reloadedAt).length > 200, '200 requests after the reload')
  const counts = summarize(await load.stop())
  t.diagnostic(JSON.stringify(counts))
  assert.equal(counts.failed, 0)
  assert.deepEqual(new Set(serving().values()), new Set([first.pid, second.pid]))
})

test('a reload that lowers runtimes to 1 retires the second runtime', async () => {
  await server.waitForLog((l) => l.event === 'standby-ready' && Date.parse(l.time as string) > Date.parse(server.logs.findLast((r) => r.event === 'reloaded')!.time as string), 30_000)
  const before = serving()
  writeFileSync(config.file, `export default ${JSON.stringify({ runtimes: 1, instances: 1, keeper: { leaseMs: 1_000 }, timeouts: { drainMs: 5_000 } })}\n`)
  server.child.kill('SIGHUP')
  const reloaded = await nth('reloaded', 3)
  assert.equal(reloaded.previous, before.get(1))
  for (const pid of before.values()) await server.waitForLog((l) => l.event === 'stopped' && l.pid === pid)
  const pids = await spread('/pid', 30, (res) => (JSON.parse(res.body) as { pid: number }).pid, () => false)
  assert.deepEqual(new Set(pids), new Set([reloaded.pid]), 'one runtime serves')
  const health = JSON.parse((await get(`${admin}/health`)).body) as { runtimes?: number }
  assert.equal(health.runtimes, undefined, 'the admin endpoint is one runtime\'s again')
})

test('--no-keeper with --runtimes 2 is a config error naming runtimes', async () => {
  const result = await runCli(['run', fixture('keeper-state-app.mjs'), '--port', '0', '--admin-port', '0', '--runtimes', '2', '--no-keeper'])
  assert.equal(result.code, 1)
  assert.match(result.stderr, /^crashless: invalid config: runtimes: 2 runtime processes need the keeper/m)
})

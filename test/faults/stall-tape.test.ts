/**
 * A re-run that ends its instance still leaves its tape (issue 11, point 1): a recording
 * (sacrificial) instance streams each tape entry to the dispatcher as it is drawn, so what a run
 * read and drew before a loop stalled its instance, before its heap or its Buffers ran past their
 * limit, or before its child process aborted reaches the incident, although the run never sends a
 * word. `replay` and `triage` work from that tape (the replay is handed the recorded values: the
 * app writes what it drew to drawn.txt, and the replay's line equals the recorded run's), and a
 * loop on Date.now() streams a bounded tape marked cut. Here, not under test/incidents: it judges
 * stalls by a lease and fills heaps, so it runs alone.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, runCli, tempDir, writeConfig } from '../admin/run-cli.js'
import type { Incident } from '../../src/incidents/index.js'
import { STREAM_LIMITS } from '../../src/tape.js'

const LIMIT = '400'

interface Drawn {
  route: string
  limit: string
  now: number
  roll: number
}

const servers: CrashlessProcess[] = []

after(async () => {
  for (const server of servers) await server.stop()
  removeTempDirs()
})

/** A crashless in a directory of its own on the fixture, the store's `limit` set. */
async function start(config: Record<string, unknown>): Promise<{ server: CrashlessProcess; cwd: string }> {
  const cwd = tempDir()
  const file = writeConfig(cwd, { entry: fixture('stall-tape-app.mjs'), ...config })
  const server = await startCrashless(fixture('stall-tape-app.mjs'), ['--config', file, '--instances', '1', '--no-keeper'], { cwd })
  servers.push(server)
  assert.equal(await (await fetch(`${server.url}/set?limit=${LIMIT}`)).text(), 'set')
  return { server, cwd }
}

/** Sends GET `path` (a poison), expects the ladder's verdict, and returns its incident once written. */
async function poisoned(server: CrashlessProcess, cwd: string, path: string): Promise<Incident> {
  const res = await fetch(`${server.url}${path}`)
  const { error } = (await res.json()) as { error: { code: string; incidentId: string } }
  assert.equal(error.code, 'CRASHLESS_ERR_POISON', JSON.stringify(error))
  await server.waitForLog((l) => l.event === 'incident' && l.incidentId === error.incidentId, 10_000)
  return JSON.parse(readFileSync(join(cwd, '.crashless', 'incidents', `${error.incidentId}.json`), 'utf8')) as Incident
}

/** What every run of `route` wrote to drawn.txt, in order. */
function drawn(cwd: string, route: string): Drawn[] {
  return readFileSync(join(cwd, 'drawn.txt'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Drawn).filter((d) => d.route === route)
}

/** The one store read every route makes, as its tape holds it: `limit`, with its value and version. */
function assertLimitRead(incident: Incident): void {
  const reads = incident.tape?.reads ?? []
  assert.equal(reads.length, 1, JSON.stringify(incident.tape))
  assert.match(JSON.stringify(reads[0]!.op), /limit/)
  const entry = reads[0]!.entries![0]!
  assert.match(Buffer.from(entry.value, 'base64').toString('utf8'), new RegExp(LIMIT))
  assert.ok(entry.version > 0, JSON.stringify(entry))
}

/** What a run that ended its instance leaves in the incident: its kind, the read, one clock and one random value, and how its stream ended. */
function assertStreamedTape(incident: Incident, kind: string, ended: string): void {
  assert.equal(incident.kind, kind)
  assertLimitRead(incident)
  assert.equal(incident.tape!.now.length, 1, JSON.stringify(incident.tape))
  assert.equal(incident.tape!.random.length, 1)
  assert.deepEqual(incident.tape!.streamed, { ended })
}

/** The recorded run's line in drawn.txt: the one whose values are the tape's. */
function recordedRun(cwd: string, route: string, incident: Incident): Drawn {
  const run = drawn(cwd, route).find((d) => d.now === incident.tape!.now[0] && d.roll === incident.tape!.random[0])
  assert.ok(run, `no run of ${route} drew the tape's values: ${JSON.stringify(drawn(cwd, route))}`)
  return run
}

interface ReplayJson {
  reproduced: boolean
  got: { kind: string }
  playback: { replayed: number; beyond: number }
  cut: boolean
  streamed: { ended: string | null } | null
}

test('a loop after a store read, Date.now and Math.random: the incident has them, replay stalls on them, triage says resource', async () => {
  const { server, cwd } = await start({ timeouts: { leaseMs: 500, requestMs: 20_000 } })
  const incident = await poisoned(server, cwd, '/spin')
  assertStreamedTape(incident, 'stall', 'lease-expired')
  assert.equal(incident.tape!.truncated, false)
  recordedRun(cwd, '/spin', incident)

  const show = await runCli(['incidents', 'show', incident.id], { cwd })
  assert.match(show.stdout, /tape +1 Date\.now, 0 performance\.now, 1 Math\.random, .*1 store reads\n.*before the run ended its instance \(a stall: its lease expired\)/)

  const before = drawn(cwd, '/spin').length
  const replay = await runCli(['replay', incident.id, '--json'], { cwd, timeoutMs: 60_000 })
  assert.equal(replay.code, 0, replay.stdout + replay.stderr)
  const result = JSON.parse(replay.stdout) as ReplayJson
  assert.equal(result.got.kind, 'stall')
  assert.deepEqual(result.streamed, { ended: 'lease-expired' })
  // The read, the time and the roll came from the tape (told as they were handed back: a stall sends no outcome).
  assert.equal(result.playback.replayed, 3, JSON.stringify(result.playback))
  const replayed = drawn(cwd, '/spin').slice(before)
  assert.equal(replayed.length, 1)
  assert.deepEqual(replayed[0], { route: '/spin', limit: LIMIT, now: incident.tape!.now[0], roll: incident.tape!.random[0] })

  const triage = await runCli(['triage', incident.id, '--json', '--runs', '2', '--no-test'], { cwd, timeoutMs: 120_000 })
  assert.equal(triage.code, 0, triage.stdout + triage.stderr)
  const report = JSON.parse(triage.stdout) as { class: string; agreeing: number; runs: number; why: string; settings: { name: string }[] }
  assert.equal(report.class, 'resource', report.why)
  assert.equal(report.agreeing, report.runs)
  assert.match(report.settings[0]!.name, /recorded tape/)
  process.stdout.write(`# triage of a stall with a streamed tape: ${report.class} (${report.agreeing}/${report.runs}): ${report.why}\n`)
})

test('a loop on Date.now(): the streamed tape stops at its bound and is marked cut, and the runtime keeps serving', async () => {
  const { server, cwd } = await start({ timeouts: { leaseMs: 500, requestMs: 20_000 } })
  const incident = await poisoned(server, cwd, '/clock')
  assert.equal(incident.kind, 'stall')
  assertLimitRead(incident)
  const tape = incident.tape!
  // The draw's time and roll, then the loop's times, up to the bound; then one mark.
  assert.equal(tape.now.length + tape.random.length, STREAM_LIMITS.values, JSON.stringify({ now: tape.now.length, random: tape.random.length }))
  assert.equal(tape.random.length, 1)
  assert.equal(tape.truncated, true)
  assert.deepEqual(tape.streamed, { ended: 'lease-expired' })
  recordedRun(cwd, '/clock', incident)
  assert.equal(await (await fetch(`${server.url}/ok`)).text(), 'ok')

  const show = await runCli(['incidents', 'show', incident.id], { cwd })
  assert.match(show.stdout, /\(cut at its bounds: a replay draws later values live\)/)
  const replay = await runCli(['replay', incident.id], { cwd, timeoutMs: 60_000 })
  assert.equal(replay.code, 0, replay.stdout + replay.stderr)
  assert.match(replay.stdout, /^reproduced: expected stall, got stall; tape: \d+ value\(s\) replayed, \d+ live \(cut at its bounds, later values live; streamed by a re-run/)
})

test('a leak after a store read: ended by its heap, the incident has the read, replay runs out of memory on it, triage says resource', async () => {
  const { server, cwd } = await start({ limits: { heapMb: 64 }, timeouts: { requestMs: 20_000 } })
  const incident = await poisoned(server, cwd, '/leak')
  assert.equal(incident.kind, 'out-of-memory')
  assertLimitRead(incident)
  assert.equal(incident.tape!.now.length, 1)
  assert.deepEqual(incident.tape!.streamed, { ended: 'out-of-memory' })
  recordedRun(cwd, '/leak', incident)
  await server.stop()

  const show = await runCli(['incidents', 'show', incident.id], { cwd })
  assert.match(show.stdout, /before the run ended its instance \(out of memory\)/)
  const before = drawn(cwd, '/leak').length
  const replay = await runCli(['replay', incident.id, '--json'], { cwd, timeoutMs: 60_000 })
  assert.equal(replay.code, 0, replay.stdout + replay.stderr)
  const result = JSON.parse(replay.stdout) as ReplayJson
  assert.equal(result.got.kind, 'out-of-memory')
  assert.equal(result.playback.replayed, 3, JSON.stringify(result.playback))
  // The leak's size came from the tape's read: the replay has no store.
  assert.deepEqual(drawn(cwd, '/leak').slice(before), [{ route: '/leak', limit: LIMIT, now: incident.tape!.now[0], roll: incident.tape!.random[0] }])

  const triage = await runCli(['triage', incident.id, '--json', '--runs', '2', '--no-test'], { cwd, timeoutMs: 120_000 })
  assert.equal(triage.code, 0, triage.stdout + triage.stderr)
  const report = JSON.parse(triage.stdout) as { class: string; agreeing: number; runs: number; why: string }
  assert.equal(report.class, 'resource', report.why)
  assert.equal(report.agreeing, report.runs)
  process.stdout.write(`# triage of a leak with a streamed tape: ${report.class} (${report.agreeing}/${report.runs}): ${report.why}\n`)
})

test('Buffers kept after a store read: ended by limits.externalMb, the incident has the read, replay runs out of memory on it', async () => {
  const { server, cwd } = await start({ limits: { externalMb: 128 }, timeouts: { requestMs: 20_000 } })
  const incident = await poisoned(server, cwd, '/buffers')
  assertStreamedTape(incident, 'out-of-memory', 'out-of-memory')
  recordedRun(cwd, '/buffers', incident)
  await server.stop()

  const replay = await runCli(['replay', incident.id, '--json'], { cwd, timeoutMs: 60_000 })
  assert.equal(replay.code, 0, replay.stdout + replay.stderr)
  const result = JSON.parse(replay.stdout) as ReplayJson
  assert.equal(result.got.kind, 'out-of-memory')
  assert.equal(result.playback.replayed, 3, JSON.stringify(result.playback))
})

test("isolation: 'process', a child that aborts right after it drew: what it sent before it died reaches the incident", async () => {
  const { server, cwd } = await start({ isolation: 'process', timeouts: { requestMs: 20_000 } })
  const incident = await poisoned(server, cwd, '/abort')
  assertStreamedTape(incident, 'crash', 'crash')
  recordedRun(cwd, '/abort', incident)
})

/**
 * Cluster-wide immunity on a real redis-server: tables of several "nodes" (each opened by
 * openImmunityStore, as a runtime does) share verdicts over pub/sub; a node that joins later
 * loads them; a node that lost its subscription makes its table what the store says.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, test } from 'node:test'
import pino from 'pino'
import { resolveConfig } from '../../src/config/index.js'
import { ImmunityTable, openImmunityStore, type ImmunityStore } from '../../src/immunity/index.js'
import { createBackend } from '../../src/state/index.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'

let redis: RedisServer
const dir = mkdtempSync(join(tmpdir(), 'crashless-verdicts-'))
const opened: ImmunityStore[] = []

before(async () => {
  redis = await startRedisServer()
})
after(async () => {
  for (const store of opened.splice(0)) await store.close()
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** One node's immunity: its table, its store, and its log lines as they come. */
interface Node {
  table: ImmunityTable
  store: ImmunityStore
  lines: Record<string, unknown>[]
  /** Resolves with the first log line (already seen or future) matching. */
  next(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
}

async function node(prefix: string): Promise<Node> {
  const lines: Record<string, unknown>[] = []
  const waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const raw of chunk.toString('utf8').split('\n')) {
        if (!raw) continue
        const line = JSON.parse(raw) as Record<string, unknown>
        lines.push(line)
        for (const waiter of [...waiters]) {
          if (!waiter.match(line)) continue
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(line)
        }
      }
      done()
    },
  })
  const log = pino({ level: 'debug' }, sink)
  const config = resolveConfig({ entry: 'app.mjs', immunity: { store: 'redis', threshold: 2, quarantineMs: 60_000 }, state: { redisUrl: redis.url, redisPrefix: prefix } }, { baseDir: dir, source: 'test' })
  const table = new ImmunityTable({ threshold: 2, quarantineMs: 60_000 })
  const store = (await openImmunityStore(config, table, log))!
  opened.push(store)
  const next = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 5_000): Promise<Record<string, unknown>> => {
    const seen = lines.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such log line within ${timeoutMs} ms; lines: ${JSON.stringify(lines)}`)), timeoutMs)
      waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) })
    })
  }
  return { table, store, lines, next }
}

const verdict = (signature: string, kind: string) => (line: Record<string, unknown>) => line.event === 'immunity-verdict' && line.signature === signature && line.verdict === kind

test('a quarantine reached on one node is known to the others at once, and to a node that joins later', async (t) => {
  const [a, b, c] = [await node('v1:'), await node('v1:'), await node('v1:')]
  const signature = 'GET /boom?x=1 #-'
  const startedAt = performance.now()
  a.table.quarantine(signature, 'crash:uncaughtException', 3, 'inc-1')
  const [onB, onC] = await Promise.all([b.next(verdict(signature, 'quarantine')), c.next(verdict(signature, 'quarantine'))])
  const measuredMs = performance.now() - startedAt
  assert.equal(b.table.isQuarantined(signature)?.incidentId, 'inc-1', 'B refuses it: the verdict and its incident')
  assert.ok(c.table.isQuarantined(signature))
  assert.equal(a.lines.filter((l) => l.event === 'immunity-verdict').length, 0, 'a node ignores its own verdicts')
  t.diagnostic(`propagation: ${measuredMs.toFixed(2)} ms from the verdict on A to B and C applying it (logged delays ${String(onB.delayMs)} / ${String(onC.delayMs)} ms)`)

  const late = await node('v1:')
  assert.equal(late.table.isQuarantined(signature)?.incidentId, 'inc-1', 'a node started later loads it from the table')
})

test('a cure and a release travel too; failures alone are not broadcast', async () => {
  const [a, b] = [await node('v2:'), await node('v2:')]
  a.table.recordFailure('GET /flaky #-', 'crash:uncaughtException')
  a.table.recordCure('GET /race #-', 'exclusive', 'crash:uncaughtException')
  await b.next(verdict('GET /race #-', 'cure'))
  assert.equal(b.table.cureOf('GET /race #-'), 'exclusive')

  b.table.quarantine('GET /boom #-', 'exit', 3, 'inc-2')
  await a.next(verdict('GET /boom #-', 'quarantine'))
  assert.ok(a.table.isQuarantined('GET /boom #-'))
  // An operator releases it on A (crashless immunity release): B runs it again at once.
  assert.equal(a.table.release('GET /boom #-'), true)
  await b.next(verdict('GET /boom #-', 'release'))
  assert.equal(b.table.isQuarantined('GET /boom #-'), null)
  assert.equal(b.table.get('GET /flaky #-'), undefined, 'a failure counted on A alone is not told to B')
})

test('a node that lost its subscription re-reads the store: it learns what it missed and forgets what was released', async () => {
  const [a, b] = [await node('v3:'), await node('v3:')]
  a.table.quarantine('GET /kept #-', 'exit', 3, 'inc-3')
  a.table.quarantine('GET /released #-', 'exit', 3, 'inc-4')
  await Promise.all([b.next(verdict('GET /kept #-', 'quarantine')), b.next(verdict('GET /released #-', 'quarantine'))])
  // What B cannot hear while its connection is down: a release and a quarantine that reached
  // the store without a message (written straight to it, as by a node whose publish was lost).
  const raw = await createBackend({ kind: 'redis', url: redis.url, prefix: 'v3:immunity:' })
  const missed = await raw.get(['immunity:GET /kept #-'])
  await raw.commit([], [
    { key: 'immunity:GET /released #-', value: null },
    { key: 'immunity:GET /missed #-', value: missed[0]!.value, ttlMs: 60_000 },
  ])
  await raw.close()
  assert.ok(b.table.isQuarantined('GET /released #-'), 'B still holds the stale verdict')

  // Every pub/sub connection is dropped; each node reconnects, re-subscribes and re-reads.
  const { Redis } = await import('ioredis')
  const client = new Redis(redis.url)
  const resynced = b.lines.filter((l) => l.event === 'immunity-resynced').length
  assert.ok(Number(await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub')) >= 2)
  client.disconnect()
  const line = await b.next((l) => l.event === 'immunity-resynced' && b.lines.filter((x) => x.event === 'immunity-resynced').indexOf(l) >= resynced)
  assert.equal(line.released, 1)
  assert.equal(b.table.isQuarantined('GET /released #-'), null, 'the release made meanwhile holds on B')
  assert.ok(b.table.isQuarantined('GET /missed #-'), 'the verdict B missed is learned from the store')
  assert.ok(b.table.isQuarantined('GET /kept #-'))
  assert.ok(b.lines.some((l) => l.event === 'immunity-channel-lost'))
})

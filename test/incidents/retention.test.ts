/**
 * The incidents folder stays bounded (issue 11.6): identical failures are counted in one
 * incident, and distinct ones beyond `maxCount` / `maxBytes` prune the oldest. First through the
 * store itself with 5,000 distinct failures on a real folder, then through a real crashless
 * under a bounded flood of distinct crashing requests that hit one bug.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import pino from 'pino'
import { IncidentStore, type IncidentDraft } from '../../src/incidents/index.js'
import { fixture, startCrashless } from '../helpers/crashless-process.js'
import { removeTempDirs, runCli, tempDir, writeConfig } from '../admin/run-cli.js'

after(removeTempDirs)

const app = { entry: '/srv/app/app.mjs', style: 'auto' as const, heapMb: 512, stackMb: 4, leaseMs: 1000, requestMs: 30000, sessions: null }

function draft(n: number, line: number): IncidentDraft {
  return {
    id: `inc-20300101T${String(Math.floor(n / 60) % 24).padStart(2, '0')}${String(n % 60).padStart(2, '0')}00Z-${n.toString(16).padStart(8, '0')}`,
    at: Date.UTC(2030, 0, 1) + n * 1000,
    signature: `GET /x?n=${n} #-`,
    verdict: 'poison',
    cure: null,
    instancesSpent: 3,
    durationMs: 5,
    kind: 'crash',
    request: { requestId: `r-${n}`, method: 'GET', url: `/x?n=${n}`, rawHeaders: ['host', 'a'], body: null, session: false },
    steps: [],
    error: { name: 'Error', message: `boom ${n}`, stack: `Error: boom ${n}\n    at handler (/srv/app/app.mjs:${line}:7)` },
    neighbours: [],
    tape: null,
  }
}

test('5,000 distinct failures leave at most maxCount files within maxBytes, the newest kept; identical ones count in one', async () => {
  const dir = tempDir()
  const store = new IncidentStore(dir, { maxCount: 40, maxBytes: 48 * 1024 }, { app, appDir: '/srv/app', environment: null, rules: { headers: [], bodyFields: [] }, maxBodyBytes: 1024 }, pino({ level: 'silent' }))
  // Distinct first in-app frames: distinct bugs, each its own incident.
  for (let n = 0; n < 5_000; n++) store.write(draft(n, n + 1))
  await store.idle()
  const files = readdirSync(dir)
  assert.ok(files.length <= 40, `${files.length} files`)
  const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0)
  assert.ok(bytes <= 48 * 1024, `${bytes} bytes`)
  assert.ok(files.includes(`${draft(4_999, 0).id}.json`), 'the newest incident was pruned')
  assert.ok(!files.includes(`${draft(0, 0).id}.json`), 'the oldest incident was kept')

  // One bug (same frame) hit by 5,000 distinct requests: one file, counted.
  const one = tempDir()
  const same = new IncidentStore(one, { maxCount: 40, maxBytes: 1 << 20 }, { app, appDir: '/srv/app', environment: null, rules: { headers: [], bodyFields: [] }, maxBodyBytes: 1024 }, pino({ level: 'silent' }))
  for (let n = 0; n < 5_000; n++) same.write(draft(n, 12))
  await same.idle()
  const written = readdirSync(one)
  assert.equal(written.length, 1)
  const incident = JSON.parse(readFileSync(join(one, written[0]!), 'utf8')) as { count: number; frame: string; occurrences: { id: string }[] }
  assert.equal(incident.count, 5_000)
  assert.equal(incident.frame, 'app.mjs:12:7')
  assert.equal(incident.occurrences.length, 50)
  assert.equal(incident.occurrences.at(-1)!.id, draft(4_999, 12).id)
})

test('the first write of an incident is logged even when identical failures are counted while it is on disk', async () => {
  const dir = tempDir()
  const lines: { event?: string; incidentId?: string }[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { event?: string }) })
  const store = new IncidentStore(dir, { maxCount: 40, maxBytes: 1 << 20 }, { app, appDir: '/srv/app', environment: null, rules: { headers: [], bodyFields: [] }, maxBodyBytes: 1024 }, log)
  store.write(draft(1, 12))
  // Counted in the first while its file is being written (the write awaits the disk).
  await Promise.resolve()
  store.write(draft(2, 12))
  store.write(draft(3, 12))
  await store.idle()
  const written = lines.filter((l) => l.event === 'incident')
  assert.deepEqual(written.map((l) => l.incidentId), [draft(1, 12).id], JSON.stringify(lines.map((l) => l.event)))
  assert.equal(lines.filter((l) => l.event === 'incident-counted').length, 2)
})

test('a bounded flood of distinct crashing requests hitting one bug writes one incident; every id a client got still finds it', async () => {
  const cwd = tempDir()
  const file = writeConfig(cwd, { entry: fixture('incident-app.mjs'), incidents: { maxCount: 5 } })
  const server = await startCrashless(fixture('incident-app.mjs'), ['--config', file, '--instances', '1', '--no-keeper'], { cwd })
  try {
    const ids: string[] = []
    for (let round = 0; round < 6; round++) {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`${server.url}/flood?n=${round * 10 + i}`).then((r) => r.json() as Promise<{ error: { code: string; incidentId?: string } }>)))
      for (const { error } of answers) if (error.code === 'CRASHLESS_ERR_POISON') ids.push(error.incidentId!)
    }
    assert.ok(ids.length >= 5, `only ${ids.length} poison verdicts`)
    for (const id of ids) await server.waitForLog((l) => (l.event === 'incident' || l.event === 'incident-counted') && l.incidentId === id, 10_000)
    const ls = await runCli(['incidents', 'ls', '--json'], { cwd })
    const rows = JSON.parse(ls.stdout) as { id: string; count: number; signature: string }[]
    assert.equal(rows.length, 1, ls.stdout)
    assert.equal(rows[0]!.count, ids.length)
    const last = await runCli(['incidents', 'show', ids.at(-1)!, '--json'], { cwd })
    assert.equal((JSON.parse(last.stdout) as { id: string }).id, rows[0]!.id)
  } finally {
    await server.stop()
  }
})

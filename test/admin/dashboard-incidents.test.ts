/**
 * The dashboard's recent incidents against a real crashless under its keeper: a row per
 * incident file (an identical failure is a count on its row, not a row of its own), and the
 * rows outlive the runtime: after kill -9, the promoted standby lists them from the folder.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'
import type { RecentIncident } from '../../src/incidents/index.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, startIn, tempDir } from './run-cli.js'

let server: CrashlessProcess & { adminUrl: string }
let dir: string

before(async () => {
  dir = tempDir()
  server = await startIn(dir, { admin: { port: 0 }, immunity: { store: 'memory' } })
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

/** The first snapshot of `GET /events` (the stream is closed once it is read). */
async function snapshot(): Promise<{ incidents: RecentIncident[]; runtime: { pid: number } }> {
  const controller = new AbortController()
  const res = await fetch(`${server.adminUrl}/events`, { signal: controller.signal })
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  try {
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read()
      if (done) break
      text += value
    }
  } finally {
    controller.abort()
  }
  return JSON.parse(text.slice(text.indexOf('data: ') + 6, text.indexOf('\n\n'))) as { incidents: RecentIncident[]; runtime: { pid: number } }
}

/** Snapshots until `done` holds (bounded). */
async function snapshotUntil(done: (s: Awaited<ReturnType<typeof snapshot>>) => boolean, timeoutMs = 10_000): Promise<Awaited<ReturnType<typeof snapshot>>> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const s = await snapshot()
    if (done(s)) return s
    if (Date.now() > end) throw new Error(`the snapshot did not get there: ${JSON.stringify(s.incidents)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const mine = (s: { incidents: RecentIncident[] }): RecentIncident[] => s.incidents.filter((i) => i.url.startsWith('/fault/throw?swap='))

test('one row per incident file, identical failures counted on it; the rows survive a runtime swap', async () => {
  await server.waitForLog((l) => l.event === 'standby-ready', 20_000)
  // POSTs are not re-run: each crash is judged on the spot, and the second is identical to the first.
  for (const n of [1, 2]) {
    const res = await fetch(`${server.url}/fault/throw?swap=${n}`, { method: 'POST' })
    assert.equal(res.status, 500)
    await res.text()
  }
  await server.waitForLog((l) => l.event === 'incident-counted', 10_000)
  const before = await snapshotUntil((s) => mine(s)[0]?.count === 2)
  assert.equal(mine(before).length, 1, 'the counted failure has no row of its own')
  const [row] = mine(before)
  assert.equal(row!.url, '/fault/throw?swap=1')
  assert.equal(row!.verdict, 'failed')
  assert.ok(row!.path.endsWith(`${row!.id}.json`) && existsSync(resolve(dir, row!.path)), `its file is there: ${row!.path}`)

  const oldPid = before.runtime.pid
  process.kill(server.runtimePid, 'SIGKILL')
  await server.waitForLog((l) => l.event === 'runtime-promoted', 20_000)
  const afterSwap = await snapshotUntil((s) => s.runtime.pid !== oldPid && mine(s).length > 0)
  assert.deepEqual(mine(afterSwap).map(({ id, count, path, verdict, url }) => ({ id, count, path, verdict, url })), [{ id: row!.id, count: 2, path: row!.path, verdict: 'failed', url: '/fault/throw?swap=1' }])
})

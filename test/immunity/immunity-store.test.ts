/**
 * The immunity table's persistence, on a real SQLite file: changes are written after a short
 * delay (never while recording them), reloaded by a later table, and forgotten when released
 * or expired.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import pino from 'pino'
import { ImmunityStore, ImmunityTable } from '../../src/immunity/index.js'
import { createBackend } from '../../src/state/index.js'
import { waitFor } from '../state/wait-for.js'

const dir = mkdtempSync(join(tmpdir(), 'crashless-immunity-'))
const log = pino({ level: 'silent' })
after(() => rmSync(dir, { recursive: true, force: true }))

async function open(path: string, options = { threshold: 2, quarantineMs: 60_000 }): Promise<{ table: ImmunityTable; store: ImmunityStore }> {
  const table = new ImmunityTable(options)
  const store = await ImmunityStore.attach(table, await createBackend({ kind: 'sqlite', path }), log)
  return { table, store }
}

/** What is on disk, read through a second connection to the same file. */
async function stored(path: string): Promise<string[]> {
  const backend = await createBackend({ kind: 'sqlite', path })
  try {
    return (await backend.list('immunity:')).map((e) => `${e.key} ${Buffer.from(e.value).toString()}`)
  } finally {
    await backend.close()
  }
}

test('recording never writes synchronously; the batch lands shortly after', async () => {
  const path = join(dir, 'async.db')
  const { table, store } = await open(path)
  table.recordFailure('GET /a #-', 'crash:exception')
  table.recordFailure('GET /a #-', 'crash:exception')
  table.recordFailure('GET /b #-', 'lease-expired')
  assert.deepEqual(await stored(path), [], 'nothing written on the request path')
  const rows = await waitFor(async () => {
    const now = await stored(path)
    return now.length === 2 ? now : null
  }, 'the debounced write', 3_000, 20)
  assert.match(rows[0]!, /^immunity:GET \/a #- \{"v":1,"failures":2,"lastFailure":"crash:exception"/)
  assert.match(rows[1]!, /^immunity:GET \/b #- \{"v":1,"failures":1,"lastFailure":"lease-expired".*"quarantinedUntil":0,"cure":null,"curedUntil":0,"incidentId":null\}$/)
  await store.close()
})

test('a new table on the same file knows the quarantine; release removes it from the file', async () => {
  const path = join(dir, 'reload.db')
  const first = await open(path)
  first.table.recordFailure('POST /pay #abc', 'exit')
  first.table.recordFailure('POST /pay #abc', 'exit')
  const until = first.table.isQuarantined('POST /pay #abc')!.quarantinedUntil
  await first.store.close()

  const second = await open(path)
  assert.deepEqual(second.table.isQuarantined('POST /pay #abc'), { signature: 'POST /pay #abc', failures: 2, lastFailure: 'exit', firstFailureAt: second.table.get('POST /pay #abc')!.firstFailureAt, quarantinedUntil: until, cure: null, curedUntil: 0, incidentId: null })
  assert.equal(second.table.release('POST /pay #abc'), true)
  await second.store.flush()
  assert.deepEqual(await stored(path), [])
  await second.store.close()

  const third = await open(path)
  assert.equal(third.table.size, 0, 'a released signature stays released after a restart')
  await third.store.close()
})

test('entries are stored with the time they have left, so expired ones are never loaded', async () => {
  const path = join(dir, 'expiry.db')
  const first = await open(path, { threshold: 1, quarantineMs: 150 })
  first.table.recordFailure('GET /short #-', 'crash:exception')
  await first.store.close()
  assert.equal((await stored(path)).length, 1)
  await waitFor(async () => (await stored(path)).length === 0, 'the stored entry to expire', 3_000, 20)
  const second = await open(path, { threshold: 1, quarantineMs: 150 })
  assert.equal(second.table.size, 0)
  await second.store.close()
})

test('a cure and a verdict\'s incident id are kept across a restart', async () => {
  const path = join(dir, 'cure.db')
  const first = await open(path)
  first.table.recordCure('GET /race #-', 'exclusive', 'crash:uncaughtException')
  first.table.quarantine('GET /boom #-', 'crash:uncaughtException', 3, 'inc-20261122T000000Z-0badf00d')
  await first.store.close()

  const second = await open(path)
  assert.equal(second.table.cureOf('GET /race #-'), 'exclusive')
  assert.equal(second.table.isQuarantined('GET /boom #-')?.incidentId, 'inc-20261122T000000Z-0badf00d')
  assert.equal(second.table.isQuarantined('GET /race #-'), null, 'a cured signature is not quarantined')
  await second.store.close()
})

test('entries this version cannot read are skipped, not fatal', async () => {
  const path = join(dir, 'garbage.db')
  const backend = await createBackend({ kind: 'sqlite', path })
  await backend.commit([], [
    { key: 'immunity:GET /x #-', value: Buffer.from('not json') },
    { key: 'immunity:GET /y #-', value: Buffer.from('{"v":2}') },
    { key: 'immunity:GET /z #-', value: Buffer.from(JSON.stringify({ v: 1, failures: 3, lastFailure: 'crash:exception', firstFailureAt: Date.now(), quarantinedUntil: Date.now() + 60_000 })) },
    // An unknown tweak (a later version's) is ignored, the entry kept.
    { key: 'immunity:GET /w #-', value: Buffer.from(JSON.stringify({ v: 1, failures: 1, lastFailure: 'crash:exception', firstFailureAt: Date.now(), quarantinedUntil: 0, cure: 'teleport', curedUntil: Date.now() + 60_000 })) },
  ])
  await backend.close()
  const { table, store } = await open(path)
  assert.deepEqual(table.list().map((e) => e.signature), ['GET /z #-', 'GET /w #-'])
  assert.equal(table.cureOf('GET /w #-'), null)
  await store.close()
})

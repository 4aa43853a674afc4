/**
 * The immunity table outlives the crashless process: poison learned before a restart is
 * refused after it, without reaching an instance; an expired quarantine lets requests run.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { removeTempDirs, startIn, tempDir } from '../admin/run-cli.js'
import { agent, assertCrashlessError, eventsSince, send, waitForEvents } from '../faults/harness.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { waitFor } from '../state/wait-for.js'

const running: CrashlessProcess[] = []

after(async () => {
  for (const server of running.splice(0)) await server.stop()
  await agent.close()
  removeTempDirs()
})

async function start(dir: string, config: Record<string, unknown>): Promise<CrashlessProcess & { adminUrl: string }> {
  const server = await startIn(dir, { admin: { port: 0 }, ...config })
  running.push(server)
  return server
}

test('a quarantine survives SIGTERM and a new start on the same immunity db', async () => {
  const dir = tempDir()
  // Relative: resolved against crashless's working directory.
  const config = { immunity: { threshold: 2, quarantineMs: 60_000, path: 'data/immunity.db' } }
  const first = await start(dir, config)
  assertCrashlessError(await send(`${first.url}/fault/throw?restart=1`), 500, 'CRASHLESS_ERR_POISON')
  const quarantined = await first.waitForLog((l) => l.event === 'quarantined', 5_000)
  // A signature that failed once (not quarantined) is remembered too: a POST, which cannot be
  // re-run, so one failure is all it gets until the next.
  assertCrashlessError(await send(`${first.url}/fault/throw?restart=2`, { method: 'POST' }), 500, 'CRASHLESS_ERR_HANDLER')
  await waitForEvents(first, 0, 'request-crashed', 4)
  assert.equal(await first.stop(), 0)

  const second = await start(dir, config)
  const loaded = second.logs.find((l) => l.event === 'immunity-loaded')
  assert.deepEqual([loaded?.store, loaded?.entries, loaded?.quarantined], ['sqlite', 2, 1])
  const refused = await send(`${second.url}/fault/throw?restart=1`)
  const id = assertCrashlessError(refused, 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.ok(refused.body.includes(`refused until ${quarantined.until as string}`), refused.body)
  await second.waitForLog((l) => l.event === 'quarantine-hit' && l.requestId === id, 5_000)
  assert.equal(eventsSince(second, 0, 'request-crashed').length, 0, 'the poison never ran after the restart')

  // The single earlier failure counts: one more quarantines that signature as well.
  assertCrashlessError(await send(`${second.url}/fault/throw?restart=2`, { method: 'POST' }), 500, 'CRASHLESS_ERR_HANDLER')
  const second2 = await second.waitForLog((l) => l.event === 'quarantined' && l.signature === 'POST /fault/throw?restart=2 #-', 5_000)
  assert.equal(second2.failures, 2)
})

test('a quarantine expires after immunity.quarantineMs; the request then runs again', async () => {
  const dir = tempDir()
  const quarantineMs = 1_500
  const server = await start(dir, { immunity: { threshold: 2, quarantineMs, path: join(dir, 'immunity.db') } })
  assertCrashlessError(await send(`${server.url}/fault/throw?expire=1`), 500, 'CRASHLESS_ERR_POISON')
  const quarantinedAt = Date.now()
  await server.waitForLog((l) => l.event === 'quarantined', 5_000)
  assertCrashlessError(await send(`${server.url}/fault/throw?expire=1`), 500, 'CRASHLESS_ERR_QUARANTINED')

  // No event announces an expiry: poll the admin list, bounded.
  await waitFor(
    async () => ((await (await fetch(`${server.adminUrl}/immunity`)).json()) as { entries: unknown[] }).entries.length === 0,
    'the quarantine to expire',
    quarantineMs + 5_000,
    100,
  )
  assert.ok(Date.now() - quarantinedAt >= quarantineMs - 200, 'not before its time')
  const from = server.logs.length
  // It runs again: the ladder tries it anew and gives a new verdict.
  assertCrashlessError(await send(`${server.url}/fault/throw?expire=1`), 500, 'CRASHLESS_ERR_POISON')
  await waitForEvents(server, from, 'request-crashed', 3)
  assert.equal(eventsSince(server, from, 'quarantine-hit').length, 0)
})

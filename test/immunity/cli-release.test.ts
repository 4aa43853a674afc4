/**
 * Poison, seen from an operator's terminal: `crashless immunity ls` shows the quarantined
 * signature and `crashless immunity release` lifts it, after which the request runs again.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { removeTempDirs, runCli, startIn, tempDir } from '../admin/run-cli.js'
import { agent, assertCrashlessError, eventsSince, send, waitForEvents } from '../faults/harness.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'

const POISON = 'GET /fault/throw?cli=1 #-'
let server: CrashlessProcess & { adminUrl: string }

before(async () => {
  server = await startIn(tempDir(), { admin: { port: 0 }, immunity: { threshold: 2, quarantineMs: 60_000, store: 'memory' } })
})

after(async () => {
  await server?.stop()
  await agent.close()
  removeTempDirs()
})

test('ls shows a quarantined signature; release lifts it and the next request runs', async () => {
  const from = server.logs.length
  const poison = await send(`${server.url}/fault/throw?cli=1`)
  assertCrashlessError(poison, 500, 'CRASHLESS_ERR_POISON')
  const incidentId = (JSON.parse(poison.body) as { error: { incidentId: string } }).error.incidentId
  await server.waitForLog((l) => l.event === 'quarantined' && l.signature === POISON, 5_000)
  assertCrashlessError(await send(`${server.url}/fault/throw?cli=1`), 500, 'CRASHLESS_ERR_QUARANTINED')

  const table = await runCli(['immunity', 'ls', '--admin', server.adminUrl])
  assert.equal(table.code, 0, table.stderr)
  const [header, row, ...rest] = table.stdout.trimEnd().split('\n')
  assert.match(header!, /^SIGNATURE\s+FAILURES\s+LAST FAILURE\s+CURE\s+INCIDENT\s+QUARANTINED UNTIL$/)
  assert.equal(rest.length, 0, table.stdout)
  assert.ok(row!.startsWith(POISON), row)
  assert.match(row!, new RegExp(`\\s3\\s+crash:\\S+\\s+-\\s+${incidentId}\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(in (\\d+m )?\\d+s\\)$`))

  const json = await runCli(['immunity', 'ls', '--admin', server.adminUrl, '--json'])
  const entries = JSON.parse(json.stdout) as { signature: string; failures: number; quarantinedUntil: number; incidentId: string }[]
  assert.equal(entries.length, 1)
  assert.equal(entries[0]!.signature, POISON)
  assert.equal(entries[0]!.failures, 3)
  assert.equal(entries[0]!.incidentId, incidentId)
  assert.ok(entries[0]!.quarantinedUntil > Date.now() + 50_000)

  const released = await runCli(['immunity', 'release', POISON, '--admin', server.adminUrl])
  assert.equal(released.code, 0, released.stderr)
  assert.match(released.stdout, /^released GET \/fault\/throw\?cli=1 #-/)

  // Runs again: it reaches an instance and crashes there, as it did before the quarantine, and
  // the ladder gives a verdict anew, in a new incident.
  const again = await send(`${server.url}/fault/throw?cli=1`)
  assertCrashlessError(again, 500, 'CRASHLESS_ERR_POISON')
  assert.equal((await waitForEvents(server, from, 'request-crashed', 6)).length, 6)
  assert.equal(eventsSince(server, from, 'quarantine-hit').length, 1)
  const after = JSON.parse((await runCli(['immunity', 'ls', '--admin', server.adminUrl, '--json'])).stdout) as { signature: string; incidentId: string }[]
  assert.deepEqual(after.map((e) => e.signature), [POISON])
  assert.notEqual(after[0]!.incidentId, incidentId)
})

test('releasing an unknown signature exits 1 and says so', async () => {
  const result = await runCli(['immunity', 'release', 'GET /never-failed #-', '--admin', server.adminUrl])
  assert.equal(result.code, 1)
  assert.match(result.stderr, /no immunity entry for GET \/never-failed #-/)
  const json = await runCli(['immunity', 'release', 'GET /never-failed #-', '--admin', server.adminUrl, '--json'])
  assert.equal(json.code, 1)
  assert.deepEqual(JSON.parse(json.stdout), { signature: 'GET /never-failed #-', released: false })
})

test('bad usage exits 2 with the usage text', async () => {
  const noSignature = await runCli(['immunity', 'release', '--admin', server.adminUrl])
  assert.equal(noSignature.code, 2)
  assert.match(noSignature.stderr, /takes exactly one signature/)
  const badAction = await runCli(['immunity', 'purge'])
  assert.equal(badAction.code, 2)
  assert.match(badAction.stderr, /unknown action "purge"/)
  assert.match(badAction.stderr, /immunity release <signature>/)
  const badUrl = await runCli(['immunity', 'ls', '--admin', 'not a url'])
  assert.equal(badUrl.code, 2)
})

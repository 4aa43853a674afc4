/**
 * Requests that corrupt rather than crash (issue 16.3) with real processes. A JSON body with a
 * `__proto__` key, deep-merged naively, pollutes Object.prototype: the request succeeds (201)
 * and its instance answers 500 from then on. A rate given as a string poisons a module-level
 * cache the same way. crashless ejects the instance (bad answers), re-runs what it answered
 * before on fresh sacrificial instances, and quarantines the request after which a request it
 * answered badly fails: "corrupts the instance". The same request is then refused unrun.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, test } from 'node:test'
import { loop, send, start, stopAll, type Served } from './harness.js'
import { assertCrashlessError, crashlessError } from '../faults/harness.js'
import { runCli } from '../admin/run-cli.js'

after(stopAll)

/**
 * Sends the corrupting request once, then reads `url` from 4 loops until the corrupter is
 * quarantined; returns what the loops saw and the verdict's log line.
 */
async function corruptAndWait(server: Served, corrupt: { url: string; body: string }, url: string): Promise<{ failures: string[]; verdict: Record<string, unknown> }> {
  await loop(url, null, { workers: 4, max: 40 })
  const answer = await send(corrupt.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: corrupt.body })
  assert.equal(answer.status, 201, `the corrupting request itself succeeds: ${answer.body}`)
  const verdict = server.waitForLog((l) => l.event === 'quarantined' && l.reason === 'corrupts the instance', 20_000)
  const during = await loop(url, verdict, { workers: 4, max: 3_000 })
  return { failures: during.failures, verdict: await verdict }
}

async function assertQuarantinedAndClean(server: Served, corrupt: { url: string; body: string }, url: string, verdict: Record<string, unknown>): Promise<void> {
  // The incident says why.
  const written = await server.waitForLog((l) => l.event === 'incident' && l.incidentId === verdict.incidentId, 5_000)
  const incident = readFileSync(join(server.cwd, written.path as string), 'utf8')
  assert.match(incident, /corrupts the instance/)
  assert.match(incident, /"verdict": ?"poison"/)
  assert.match(incident, /"kind": ?"corrupter"/)
  // Replay and triage refuse it, saying why, rather than calling a real bug "not reproduced".
  const dir = join(server.cwd, dirname(written.path as string))
  for (const command of ['replay', 'triage']) {
    const refused = await runCli([command, verdict.incidentId as string, '--dir', dir, '--json'], { cwd: server.cwd })
    assert.equal(refused.code, 1, refused.stdout)
    assert.match(refused.stderr, /corrupts its instance: it succeeds, and a later request fails in the same process \(corrupts the instance: .+ answered well before it, 5xx after it\)/)
    assert.equal(refused.stdout, '')
  }
  // The same request again is refused without running, and corrupts nothing.
  const again = await send(corrupt.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: corrupt.body })
  assertCrashlessError(again, 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal(crashlessError(again).incidentId, verdict.incidentId)
  const after = await loop(url, null, { workers: 4, max: 200 })
  assert.deepEqual(after.failures, [], 'no instance is bad any more')
}

test('prototype pollution through a JSON body: found on fresh instances and quarantined as corrupting the instance', async () => {
  const server = await start({ instances: 2, spares: 1 }, 'pollution-app.mjs')
  // As a client would send it: JSON.stringify cannot make an own "__proto__" key.
  const corrupt = { url: `${server.url}/users`, body: '{"name":"mallory","__proto__":{"role":7}}' }
  const { failures, verdict } = await corruptAndWait(server, corrupt, `${server.url}/users/1`)
  assert.match(verdict.signature as string, /^POST \/users #[0-9a-f]{16}$/)
  assert.ok(failures.length <= 8, `only the bad answers before the ejection reached clients: ${failures.length}\n${failures.join('\n')}`)
  assert.ok(failures.every((f) => / 500 .*TypeError/.test(f)), failures.join('\n'))
  const ejected = server.logs.filter((l) => l.event === 'ejected')
  assert.equal(ejected.length, 1)
  assert.equal(verdict.instance, ejected[0]!.instance)
  await assertQuarantinedAndClean(server, corrupt, `${server.url}/users/1`, verdict)
})

test('a module-level cache given a bad entry: the request that wrote it is quarantined', async () => {
  const server = await start({ instances: 2, spares: 1 }, 'cache-app.mjs')
  const corrupt = { url: `${server.url}/rates`, body: JSON.stringify({ currency: 'GBP', rate: '1,17' }) }
  const { failures, verdict } = await corruptAndWait(server, corrupt, `${server.url}/convert?amount=3`)
  assert.match(verdict.signature as string, /^POST \/rates #[0-9a-f]{16}$/)
  assert.ok(failures.every((f) => / 500 .*toFixed/.test(f)), failures.join('\n'))
  await assertQuarantinedAndClean(server, corrupt, `${server.url}/convert?amount=3`, verdict)
})

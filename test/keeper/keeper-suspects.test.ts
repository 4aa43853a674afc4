/**
 * Suspects outlive the crash (issue 10.3), with real processes: a handler that SIGKILLs its own
 * process, sent three times under benign load, costs two runtime deaths; the third copy is
 * refused without running, with an incident naming the runtime's death, and no benign signature
 * in flight at those deaths is quarantined.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { get, startLoad, summarize } from './harness.js'

let server: CrashlessProcess

before(async () => {
  server = await startCrashless(fixture('keeper-app.mjs'), ['--instances', '2'])
})
after(async () => {
  await server?.stop()
})

async function nth(event: string, n: number): Promise<Record<string, unknown>> {
  const all = (): typeof server.logs => server.logs.filter((l) => l.event === event)
  await server.waitForLog(() => all().length >= n, 20_000)
  return all()[n - 1]!
}

test('/sigkill sent three times under load: two runtime deaths, then quarantined; benign traffic unharmed', async (t) => {
  await nth('standby-ready', 1)
  const load = startLoad(`${server.url}/slow?ms=5`, 20)

  await assert.rejects(get(`${server.url}/sigkill`), /socket hang up|ECONNRESET/)
  const first = await nth('runtime-died', 1)
  assert.deepEqual(first.poison, [])
  await nth('runtime-promoted', 1)
  await nth('standby-ready', 2)

  await assert.rejects(get(`${server.url}/sigkill`), /socket hang up|ECONNRESET/)
  const second = await nth('runtime-died', 2)
  assert.deepEqual(second.poison, ['GET /sigkill #-'], 'in flight at both deaths: poison, and nothing else')
  await nth('runtime-promoted', 2)
  const quarantined = await server.waitForLog((l) => l.event === 'quarantined' && l.code === 'CRASHLESS_ERR_RUNTIME_LOST')

  const sent = performance.now()
  const third = await get(`${server.url}/sigkill`)
  const ms = performance.now() - sent
  assert.equal(third.status, 500)
  const body = JSON.parse(third.body) as { error: { code: string; incidentId?: string } }
  assert.equal(body.error.code, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal(body.error.incidentId, quarantined.incidentId)

  const counts = summarize(await load.stop())
  t.diagnostic(`third copy refused in ${ms.toFixed(1)} ms (round trip); benign ${JSON.stringify(counts)}`)
  assert.equal(counts.refused, 0)
  assert.ok(counts.ok > 0)
  assert.equal(server.logs.filter((l) => l.event === 'runtime-died').length, 2, 'no third death')
  assert.equal(server.child.exitCode, null, 'the keeper is alive')
  assert.equal((await get(`${server.url}/slow?ms=5`)).status, 200, 'the benign signature in flight at both deaths is not quarantined')

  const incident = JSON.parse(readFileSync(join(server.cwd, '.crashless', 'incidents', `${quarantined.incidentId as string}.json`), 'utf8')) as { verdict: string; signature: string; steps: { failure: string }[] }
  assert.equal(incident.verdict, 'poison')
  assert.equal(incident.signature, 'GET /sigkill #-')
  assert.deepEqual(incident.steps.map((s) => s.failure), ['runtime-lost', 'runtime-lost'])
})

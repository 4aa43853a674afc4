/**
 * Bad answers (issue 16.2) with real processes: an instance that answers 500 to everything
 * while its sibling is fine is ejected (swapped for its spare) and the request whose answer got
 * it ejected is re-served (a POST is not: its 500 reaches its client); one answering 500 to
 * every other request is ejected by its 5xx rate against its siblings'; a failing health check
 * ejects too, and starts the search for the request that corrupted the instance (the check
 * being the probe); an app answering 503 on purpose everywhere ejects nothing, and alone on one
 * instance costs at most `outliers.intensity` swaps.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { eventsSince, loop, send, serving, start, stopAll } from './harness.js'
import { assertCrashlessError, crashlessError } from '../faults/harness.js'

after(stopAll)

test('an instance answering 500 to everything is ejected after 5 in a row; the 5th request is re-served, and no 500 reaches a client after', async () => {
  const server = await start({ instances: 2, spares: 1, outliers: { suspects: 0 } }, 'bad-answers-app.mjs')
  const before = await serving(server, '')
  const broke = JSON.parse((await send(`${server.url}/break`, { method: 'POST' })).body) as { thread: number }
  const ejected = server.waitForLog((l) => l.event === 'ejected', 15_000)
  const during = await loop(`${server.url}/items`, ejected, { workers: 4, max: 400 })
  const line = await ejected
  assert.equal(line.rule, 'consecutive')
  assert.ok(before.includes(line.instance as string), `one of the serving instances was ejected: ${String(line.instance)}`)
  const fiveHundreds = during.failures.filter((f) => / 500 /.test(f))
  assert.ok(fiveHundreds.length <= 4, `at most the first 4 of 5 bad answers reach clients: ${during.failures.join('\n')}`)
  assert.deepEqual(during.failures.filter((f) => !/ 500 /.test(f)), [])
  // The answer that got it ejected was dropped and its request re-served.
  const reserved = await server.waitForLog((l) => l.event === 'answer-reserved', 5_000)
  assert.equal(reserved.instance, line.instance)
  // From now on every request is answered well, by instances that never broke.
  const later = await loop(`${server.url}/items`, null, { workers: 4, max: 100 })
  assert.deepEqual(later.failures, [])
  assert.ok(![...later.answeredBy].some((who) => who.endsWith(`thread ${broke.thread}`)), 'the broken instance no longer serves')
  assert.ok(!(await serving(server, '')).includes(line.instance as string))
})

test('an instance answering 500 to every other request, never 5 in a row, is ejected by its 5xx rate against its siblings', async () => {
  const server = await start({ instances: 2, spares: 1, outliers: { suspects: 0 } }, 'bad-answers-app.mjs')
  const flaky = JSON.parse((await send(`${server.url}/flaky`, { method: 'POST' })).body) as { thread: number }
  const ejected = server.waitForLog((l) => l.event === 'ejected', 15_000)
  const during = await loop(`${server.url}/items`, ejected, { workers: 4, max: 1_000 })
  const line = await ejected
  assert.equal(line.rule, 'rate')
  assert.ok((line.consecutive as number) < 5, `never 5 in a row: ${JSON.stringify(line)}`)
  assert.ok((line.failed as number) * 100 >= 20 * (line.total as number), `its 5xx share is at least ratePercent: ${JSON.stringify(line)}`)
  const siblings = line.siblings as { total: number; failed: number }
  assert.ok(siblings.total > 0 && siblings.failed === 0, `its siblings answered well: ${JSON.stringify(siblings)}`)
  assert.deepEqual(during.failures.filter((f) => !/ 500 /.test(f)), [])
  assert.ok(during.failures.length > 0, 'it did answer 500s before the rule had seen enough')
  // From now on every request is answered well, by instances that were never flaky.
  const later = await loop(`${server.url}/items`, null, { workers: 4, max: 100 })
  assert.deepEqual(later.failures, [])
  assert.ok(![...later.answeredBy].some((who) => who.endsWith(`thread ${flaky.thread}`)), 'the flaky instance no longer serves')
  assert.equal(eventsSince(server, 0, 'ejected').length, 1)
})

test('a POST answered 500 by the instance it gets ejected is not re-served: its 500 reaches the client', async () => {
  // A lone instance: the consecutive rule ejects it (no sibling to compare with).
  const server = await start({ instances: 1, spares: 1, outliers: { suspects: 0 } }, 'bad-answers-app.mjs')
  await send(`${server.url}/break`, { method: 'POST' })
  const statuses: number[] = []
  for (let n = 0; n < 5; n++) statuses.push((await send(`${server.url}/items?n=${n}`, { method: 'POST', body: `{"n":${n}}`, headers: { 'content-type': 'application/json' } })).status)
  const line = await server.waitForLog((l) => l.event === 'ejected', 5_000)
  assert.equal(line.rule, 'consecutive')
  assert.deepEqual(statuses, [500, 500, 500, 500, 500], 'the 5th POST, whose answer got the instance ejected, is answered 500 too')
  assert.deepEqual(eventsSince(server, 0, 'answer-reserved'), [], 'no POST ran again elsewhere')
  // A GET in the same place is re-served (the first test); a POST now runs on the spare, once.
  const next = await send(`${server.url}/items?n=5`, { method: 'POST', body: '{"n":5}', headers: { 'content-type': 'application/json' } })
  assert.equal(next.status, 200)
})

test('a health check failing twice in a row ejects the instance, with no client traffic at all', async () => {
  const server = await start({ instances: 2, spares: 1, outliers: { suspects: 0 }, components: { default: { healthCheck: { path: '/health', everyMs: 100 } } } }, 'bad-answers-app.mjs')
  await send(`${server.url}/break`, { method: 'POST' })
  const line = await server.waitForLog((l) => l.event === 'ejected', 10_000)
  assert.equal(line.rule, 'health')
  assert.equal(line.path, '/health')
  assert.equal(line.failures, 2)
  // Its sibling passes on and stays.
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(eventsSince(server, 0, 'ejected').length, 1)
})

test('a health check ejection starts the corrupter search: the request after which the check fails is quarantined', async () => {
  const server = await start({ instances: 2, spares: 1, components: { default: { healthCheck: { path: '/health', everyMs: 100 } } } }, 'bad-answers-app.mjs')
  const warm = await loop(`${server.url}/items`, null, { workers: 4, max: 40 })
  assert.deepEqual(warm.failures, [])
  // The only request that goes bad afterwards is the check itself: no client answer is 5xx.
  const broke = await send(`${server.url}/break`, { method: 'POST' })
  assert.equal(broke.status, 201, 'the corrupting request itself succeeds')
  const verdict = await server.waitForLog((l) => l.event === 'quarantined' && l.reason === 'corrupts the instance', 20_000)
  const ejected = eventsSince(server, 0, 'ejected')
  assert.equal(ejected.length, 1)
  assert.equal(ejected[0]!.rule, 'health')
  assert.equal(verdict.instance, ejected[0]!.instance)
  assert.match(verdict.signature as string, /^POST \/break\b/)
  assert.match(verdict.probe as string, /^GET \/health\b/, 'the health check was the probe')
  const search = eventsSince(server, 0, 'corrupter-search')
  assert.equal(search.length, 1)
  assert.equal(search[0]!.probe, verdict.probe)
  // The same request is refused unrun; no instance goes bad again.
  const again = await send(`${server.url}/break`, { method: 'POST' })
  assertCrashlessError(again, 500, 'CRASHLESS_ERR_QUARANTINED')
  assert.equal(crashlessError(again).incidentId, verdict.incidentId)
  const later = await loop(`${server.url}/items`, null, { workers: 4, max: 100 })
  assert.deepEqual(later.failures, [])
  assert.equal(eventsSince(server, 0, 'ejected').length, 1)
})

test('503 on purpose from every instance ejects nothing: the siblings answer 503 too', async () => {
  const server = await start({ instances: 2, spares: 1 }, 'bad-answers-app.mjs')
  const report = await loop(`${server.url}/maintenance`, null, { workers: 4, max: 200 })
  assert.equal(report.failures.length, 200)
  assert.ok(report.failures.every((f) => / 503 \{"error":"down for maintenance"\}/.test(f)), 'every answer is the app\'s own 503')
  assert.deepEqual(eventsSince(server, 0, 'ejected'), [])
})

test('503 on purpose from a lone instance: at most outliers.intensity ejections, then none (no reboot storm)', async () => {
  const server = await start({ instances: 1, spares: 1, outliers: { intensity: 2, periodMs: 60_000, suspects: 0 } }, 'bad-answers-app.mjs')
  const report = await loop(`${server.url}/maintenance`, null, { workers: 2, max: 200 })
  assert.equal(report.failures.length, 200)
  assert.ok(report.failures.every((f) => / 503 \{"error":"down for maintenance"\}/.test(f)), 'every answer is the app\'s own 503')
  assert.equal(eventsSince(server, 0, 'ejected').length, 2, 'two swaps, then the bound holds')
  const spent = eventsSince(server, 0, 'ejections-spent')
  assert.equal(spent.length, 1, 'said once')
  assert.equal(spent[0]!.intensity, 2)
  assert.deepEqual(eventsSince(server, 0, 'reboot'), [], 'ejections never escalate')
})

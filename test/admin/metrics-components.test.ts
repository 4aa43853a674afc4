/**
 * `/metrics` of a real crashless with two components (`bids`, a node:http app under /bids, and
 * `default`, a store-backed fetch app): requests, latency, instances and heaps are labelled by
 * component, and commits, conflicts, store latency and rejuvenations move. Labelled histogram
 * counts are read with a regex on the text: the parser in scrape.ts drops them.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { scrape, scrapeUntil } from '../helpers/scrape.js'
import { removeTempDirs, tempDir, writeConfig } from './run-cli.js'

let server: CrashlessProcess & { adminUrl: string }

before(async () => {
  const dir = tempDir()
  const config = writeConfig(dir, {
    entry: fixture('state/store-fetch.mjs'),
    components: { bids: { prefix: '/bids', entry: fixture('components-app.mjs'), instances: 2 } },
    rejuvenate: { maxRequests: 40 },
    admin: { port: 0 },
    immunity: { store: 'memory' },
  })
  const started = await startCrashless(fixture('state/store-fetch.mjs'), ['--config', config, '--instances', '2'], { cwd: dir })
  const admin = await started.waitForLog((l) => l.event === 'admin-listening', 5_000)
  server = Object.assign(started, { adminUrl: `http://127.0.0.1:${admin.port as number}` })
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

async function metricsText(): Promise<string> {
  const res = await fetch(`${server.adminUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })
  assert.equal(res.status, 200)
  return res.text()
}

/** The value of the one sample line `series` (name and labels exactly as exported), or undefined. */
function sample(text: string, series: string): number | undefined {
  const escaped = series.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)
  return match ? Number(match[1]) : undefined
}

test('requests, latency, instances and heaps are counted per component; no label value carries a slash', async () => {
  const before = await scrape(server.adminUrl)
  const bids0 = before.value('crashless_http_requests_total', { component: 'bids', class: '2xx' })
  const default0 = before.value('crashless_http_requests_total', { component: 'default', class: '2xx' })
  assert.equal(bids0, 0, 'the bids series exists from the start, at 0')
  assert.equal(default0, 0)
  for (let i = 0; i < 12; i++) assert.equal((await fetch(`${server.url}/bids/offer?n=${i}`)).status, 200)
  for (let i = 0; i < 5; i++) assert.equal((await fetch(`${server.url}/get?k=k${i}`)).status, 200)
  const after = await scrapeUntil(server.adminUrl, (s) => s.value('crashless_http_requests_total', { component: 'bids', class: '2xx' }) === 12 && s.value('crashless_http_requests_total', { component: 'default', class: '2xx' }) === 5)
  assert.equal(after.value('crashless_http_requests_total', { component: 'bids', class: '2xx' }), 12)
  assert.equal(after.value('crashless_http_requests_total', { component: 'default', class: '2xx' }), 5)

  const text = await metricsText()
  assert.equal(sample(text, 'crashless_http_request_duration_seconds_count{component="bids"}'), 12)
  assert.equal(sample(text, 'crashless_http_request_duration_seconds_count{component="default"}'), 5)
  assert.equal(sample(text, 'crashless_http_request_duration_seconds_bucket{component="bids",le="+Inf"}'), 12)
  assert.equal(after.value('crashless_instances', { component: 'bids', role: 'serving', state: 'ready' }), 2)
  assert.equal(after.value('crashless_instances', { component: 'default', role: 'serving', state: 'ready' }), 2)
  const heaps = after.families.find((f) => f.name === 'crashless_instance_heap_bytes')!.metrics.filter((m) => m.labels?.role === 'serving')
  assert.deepEqual(heaps.map((m) => m.labels?.component).sort(), ['bids', 'bids', 'default', 'default'])
  for (const family of after.families.filter((f) => f.name.startsWith('crashless_'))) {
    for (const m of family.metrics) for (const [label, value] of Object.entries(m.labels ?? {})) assert.doesNotMatch(value, /[/?]/, `${family.name}{${label}="${value}"}`)
  }
})

test('store-backed requests move commits, conflicts and store latency; a request budget moves rejuvenations', async () => {
  const before = await metricsText()
  const commits0 = sample(before, 'crashless_commits_total')!
  assert.equal(sample(before, 'crashless_rejuvenations_total{reason="requests"}'), 0)
  const reads0 = sample(before, 'crashless_store_operation_duration_seconds_count{operation="read"}')!
  const writes0 = sample(before, 'crashless_store_operation_duration_seconds_count{operation="commit"}')!
  // Concurrent read-modify-writes of one key on 2 instances: some commits conflict and re-run.
  const answers = await Promise.all(Array.from({ length: 150 }, () => fetch(`${server.url}/incr?k=counter`, { method: 'POST' }).then(async (r) => (await r.text(), r.status))))
  assert.deepEqual([...new Set(answers)], [200])
  await server.waitForLog((l) => l.event === 'commit-conflict', 5_000)
  // 150 requests on 2 instances with a budget of 40 each: at least one instance was rejuvenated.
  await server.waitForLog((l) => l.event === 'rejuvenated', 10_000)
  const after = await scrapeUntil(server.adminUrl, (s) => s.value('crashless_commits_total')! >= commits0 + 150 && s.value('crashless_rejuvenations_total', { reason: 'requests' })! >= 1)
  assert.ok(after.value('crashless_commit_conflicts_total')! >= 1, 'conflicts counted')
  assert.ok(after.value('crashless_rejuvenations_total', { reason: 'requests' })! >= 1)
  assert.equal(after.value('crashless_http_requests_total', { component: 'default', class: '2xx' }), 5 + 150)
  assert.equal(after.value('crashless_http_requests_total', { component: 'bids', class: '2xx' }), 12, 'the other component saw none of them')
  const text = await metricsText()
  assert.ok(sample(text, 'crashless_store_operation_duration_seconds_count{operation="read"}')! >= reads0 + 150)
  assert.ok(sample(text, 'crashless_store_operation_duration_seconds_count{operation="commit"}')! >= writes0 + 150)
  assert.ok(sample(text, 'crashless_store_operation_duration_seconds_sum{operation="commit"}')! > 0)
})

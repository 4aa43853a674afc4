/**
 * `/metrics` of a real crashless under its keeper, parsed by a real Prometheus parser: names
 * and labels follow the conventions, and the values move as requests, faults, recoveries and a
 * runtime death happen.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { scrape, scrapeUntil } from '../helpers/scrape.js'
import { removeTempDirs, startIn, tempDir } from './run-cli.js'

let server: CrashlessProcess & { adminUrl: string }

before(async () => {
  server = await startIn(tempDir(), { admin: { port: 0 }, immunity: { store: 'memory' } })
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

/** The latency histogram's count for the one component (read from the text: the parser drops labelled histogram counts). */
async function timedRequests(): Promise<number> {
  const text = await (await fetch(`${server.adminUrl}/metrics`)).text()
  const match = /^crashless_http_request_duration_seconds_count\{component="default"\} (\d+)$/m.exec(text)
  assert.ok(match, 'the default component has a latency histogram')
  return Number(match[1])
}

test('names, types and labels follow Prometheus conventions, and no label carries a URL', async () => {
  // Requests with distinct URLs first: none of them may become a label value.
  for (let i = 0; i < 5; i++) await (await fetch(`${server.url}/ok?tag=label-${i}`)).text()
  const { families } = await scrape(server.adminUrl)
  const ours = families.filter((f) => f.name.startsWith('crashless_'))
  assert.ok(ours.length >= 20, `crashless metrics: ${ours.map((f) => f.name).join(', ')}`)
  for (const family of ours) {
    assert.match(family.name, /^crashless_[a-z0-9_]+$/)
    assert.ok(family.help.length > 10, `${family.name} has help`)
    if (family.type === 'COUNTER') assert.match(family.name, /_total$/, `${family.name}: counters end in _total`)
    if (family.type === 'HISTOGRAM') assert.match(family.name, /_seconds$/, `${family.name}: durations in seconds`)
    if (family.type !== 'COUNTER') assert.doesNotMatch(family.name, /_total$/, `${family.name}: only counters end in _total`)
    for (const sample of family.metrics) {
      for (const [label, value] of Object.entries(sample.labels ?? {})) {
        assert.doesNotMatch(value, /[/?]/, `${family.name}{${label}="${value}"}: no paths in labels`)
      }
    }
  }
  const names = ours.map((f) => f.name)
  for (const name of ['crashless_http_requests_total', 'crashless_http_request_duration_seconds', 'crashless_http_requests_in_flight', 'crashless_queued_requests', 'crashless_instances', 'crashless_instance_heap_bytes', 'crashless_recoveries_total', 'crashless_reserved_requests_total', 'crashless_suppressed_crashes_total', 'crashless_quarantines_total', 'crashless_cures_total', 'crashless_quarantine_hits_total', 'crashless_quarantine_refusal_seconds', 'crashless_commits_total', 'crashless_commit_conflicts_total', 'crashless_store_operation_duration_seconds', 'crashless_rejuvenations_total', 'crashless_runtime_deaths_total', 'crashless_reloads_total']) {
    assert.ok(names.includes(name), `${name} is exported`)
  }
})

test('requests move the status-class counter and the latency histogram; the pool shows in instances and heap', async () => {
  const before = await scrape(server.adminUrl)
  const ok = before.value('crashless_http_requests_total', { class: '2xx' })!
  const timed = await timedRequests()
  for (let i = 0; i < 20; i++) await (await fetch(`${server.url}/ok?tag=${i}`)).text()
  // Counted when the response closes, which may be just after the client has it.
  const after = await scrapeUntil(server.adminUrl, (s) => s.value('crashless_http_requests_total', { class: '2xx' })! >= ok + 20)
  assert.equal(after.value('crashless_http_requests_total', { class: '2xx' }), ok + 20)
  assert.ok((await timedRequests()) >= timed + 20)
  assert.equal(after.value('crashless_http_requests_in_flight'), 0)
  assert.equal(after.value('crashless_instances', { role: 'serving', state: 'ready' }), 2)
  const heaps = after.families.find((f) => f.name === 'crashless_instance_heap_bytes')!.metrics.filter((m) => m.labels?.role === 'serving')
  assert.equal(heaps.length, 2)
  for (const heap of heaps) assert.ok(Number(heap.value) > 1024 * 1024, `heap of ${heap.labels?.instance_id}: ${heap.value}`)
})

test('a crashing request: suppressed, re-run on the ladder, quarantined; its copies are refused and counted as hits', async () => {
  const before = await scrape(server.adminUrl)
  const errors = before.value('crashless_http_requests_total', { class: '5xx' })!
  assert.equal(before.value('crashless_quarantines_total', { source: 'ladder' }), 0)
  const res = await fetch(`${server.url}/fault/throw?v=metrics`)
  assert.equal(res.status, 500)
  await res.text()
  const judged = await scrapeUntil(server.adminUrl, (s) => s.value('crashless_quarantines_total', { source: 'ladder' }) === 1 && s.value('crashless_http_requests_total', { class: '5xx' })! > errors)
  assert.ok(judged.value('crashless_suppressed_crashes_total')! >= 1)
  assert.equal(judged.value('crashless_recoveries_total', { level: '0', action: 'suppress' }), judged.value('crashless_suppressed_crashes_total'))
  assert.ok(judged.value('crashless_recoveries_total', { level: '2', action: 'rerun' })! >= 1)
  assert.ok(judged.value('crashless_ladder_reruns_total', { tweak: 'fresh' })! >= 1)
  assert.equal(judged.value('crashless_immunity_entries', { status: 'quarantined' }), 1)
  const hits = judged.value('crashless_quarantine_hits_total')!
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${server.url}/fault/throw?v=metrics`)).status, 500)
  const refused = await scrapeUntil(server.adminUrl, (s) => s.value('crashless_quarantine_hits_total')! >= hits + 3)
  assert.equal(refused.value('crashless_quarantine_hits_total'), hits + 3)
  // Every refusal is timed (an unlabelled histogram's count, read from the text itself).
  const text = await (await fetch(`${server.adminUrl}/metrics`)).text()
  const timed = Number(/^crashless_quarantine_refusal_seconds_count (\d+)$/m.exec(text)?.[1])
  assert.equal(timed, refused.value('crashless_quarantine_hits_total'), 'one refusal timing per quarantine hit')
})

test('a runtime death: the keeper\'s counts reach the scrape of the runtime it promoted', async () => {
  const before = await scrape(server.adminUrl)
  assert.equal(before.value('crashless_runtime_promotions_total', { reason: 'start' }), 1)
  assert.equal(before.value('crashless_runtime_deaths_total', { role: 'active' }), 0)
  await server.waitForLog((l) => l.event === 'standby-ready', 20_000)
  process.kill(server.runtimePid, 'SIGKILL')
  await server.waitForLog((l) => l.event === 'runtime-promoted', 20_000)
  const after = await scrapeUntil(server.adminUrl, (s) => s.value('crashless_runtime_promotions_total', { reason: 'death' }) === 1, 10_000)
  assert.equal(after.value('crashless_runtime_deaths_total', { role: 'active' }), 1)
  assert.equal(after.value('crashless_recoveries_total', { level: '4', action: 'runtime-swap' }), 1)
  assert.equal(after.value('crashless_reloads_total', { outcome: 'started' }), 0)
})

/**
 * `/metrics` over several runtimes: each runtime's registry (real prom-client registries, as the
 * runtimes make them) merged into one text, every series labelled with its runtime's slot, the
 * keeper's counters once and unlabelled.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Counter, Registry } from 'prom-client'
import { mergeRuntimeMetrics } from '../../src/metrics/index.js'

async function runtimeRegistry(served: number, promotions: number | null): Promise<unknown[]> {
  const registry = new Registry()
  new Counter({ name: 'crashless_http_requests_total', help: 'Requests answered.', labelNames: ['class'], registers: [registry] }).inc({ class: '2xx' }, served)
  if (promotions !== null) new Counter({ name: 'crashless_runtime_promotions_total', help: 'Promotions.', labelNames: ['reason'], registers: [registry] }).inc({ reason: 'start' }, promotions)
  return registry.getMetricsAsJSON()
}

test('each runtime\'s series carry runtime="<slot>"; the keeper\'s counters appear once, without it', async () => {
  const merged = mergeRuntimeMetrics([
    { slot: 1, metrics: await runtimeRegistry(5, 2) },
    { slot: 2, metrics: await runtimeRegistry(7, null) },
  ])
  const text = await merged.metrics()
  const lines = text.split('\n')
  assert.ok(lines.includes('crashless_http_requests_total{class="2xx",runtime="1"} 5'), text)
  assert.ok(lines.includes('crashless_http_requests_total{class="2xx",runtime="2"} 7'), text)
  assert.ok(lines.includes('crashless_runtime_promotions_total{reason="start"} 2'), text)
  assert.equal(lines.filter((l) => l.startsWith('# TYPE crashless_http_requests_total')).length, 1, 'one family, not one per runtime')
})

/**
 * docs/deployment.md shows the nginx configuration the cluster tests run: the block in the page
 * is what the harness's nginxSite() writes for the page's addresses, so the docs cannot drift
 * from what was tested.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { nginxSite, repoRoot } from './harness/index.js'

test('the nginx config in docs/deployment.md is the tested one', () => {
  const page = readFileSync(`${repoRoot}docs/deployment.md`, 'utf8')
  const block = /```nginx\n([\s\S]*?)```/.exec(page)?.[1]
  assert.ok(block, 'the page has an nginx block')
  assert.equal(block, nginxSite({ upstreams: ['10.0.0.11:3000', '10.0.0.12:3000', '10.0.0.13:3000'], listen: '80' }))
  assert.match(page, /appendfsync always/)
  assert.match(page, /Idempotency-Key/)
  assert.match(page, /readinessProbe:[\s\S]*readyz[\s\S]*livenessProbe:[\s\S]*livez/)
})

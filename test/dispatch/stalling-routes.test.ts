import assert from 'node:assert/strict'
import { test } from 'node:test'
import { StallingRoutes } from '../../src/dispatch/stalling-routes.js'

test('a route is stalling while a trial for a stall is open, however many', () => {
  const routes = new StallingRoutes(1_000, () => 0)
  assert.equal(routes.active, false)
  routes.opened('GET /a')
  routes.opened('GET /a')
  routes.ended('GET /a', false)
  assert.equal(routes.isStalling('GET /a'), true, 'one trial still open')
  routes.ended('GET /a', false)
  assert.equal(routes.isStalling('GET /a'), false, 'cleared: not held apart afterwards')
  assert.equal(routes.active, false)
  assert.equal(routes.isStalling('GET /b'), false)
})

test('a route whose request was quarantined for stalling stays apart for 10 leases', () => {
  let now = 0
  const routes = new StallingRoutes(1_000, () => now)
  routes.opened('GET /a')
  routes.ended('GET /a', true)
  now = 9_999
  assert.equal(routes.isStalling('GET /a'), true)
  now = 10_000
  assert.equal(routes.isStalling('GET /a'), false)
  assert.equal(routes.active, false, 'forgotten once over')
})

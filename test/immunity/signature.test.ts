import assert from 'node:assert/strict'
import { test } from 'node:test'
import { computeSignature, routeOf, routeOfSignature } from '../../src/immunity/index.js'

const body = (text: string): SharedArrayBuffer => {
  const shared = new SharedArrayBuffer(Buffer.byteLength(text))
  Buffer.from(shared).write(text)
  return shared
}

test('query order, duplicate and trailing slashes, and unreserved escapes do not change it', () => {
  const a = computeSignature({ method: 'get', url: '/items//7/?b=2&a=1', body: null })
  const b = computeSignature({ method: 'GET', url: '/items/%37?a=1&b=2', body: null })
  assert.equal(a, b)
  assert.equal(a, 'GET /items/7?a=1&b=2 #-')
})

test('method, path, query values and body bytes each make a different signature', () => {
  const base = computeSignature({ method: 'POST', url: '/x?a=1', body: body('{"n":1}') })
  assert.notEqual(base, computeSignature({ method: 'PUT', url: '/x?a=1', body: body('{"n":1}') }))
  assert.notEqual(base, computeSignature({ method: 'POST', url: '/y?a=1', body: body('{"n":1}') }))
  assert.notEqual(base, computeSignature({ method: 'POST', url: '/x?a=2', body: body('{"n":1}') }))
  assert.notEqual(base, computeSignature({ method: 'POST', url: '/x?a=1', body: body('{"n":2}') }))
  assert.equal(base, computeSignature({ method: 'POST', url: '/x?a=1', body: body('{"n":1}') }))
})

test('escapes of reserved characters are kept (they change meaning)', () => {
  assert.notEqual(computeSignature({ method: 'GET', url: '/a%2Fb', body: null }), computeSignature({ method: 'GET', url: '/a/b', body: null }))
})

test('a configured spec narrows or widens what counts: named query parameters, none, no body', () => {
  const a = { method: 'GET', url: '/items?id=7&utm=x&page=2', body: null }
  assert.equal(computeSignature(a, { query: ['id'], body: true }), 'GET /items?id=7 #-')
  assert.equal(computeSignature(a, { query: 'none', body: true }), 'GET /items #-')
  assert.equal(computeSignature({ ...a, url: '/items?utm=y&id=7' }, { query: ['id'], body: true }), 'GET /items?id=7 #-')
  const withBody = { method: 'POST', url: '/x', body: body('{"a":1}') }
  assert.equal(computeSignature(withBody, { query: 'all', body: false }), 'POST /x #*')
  assert.equal(computeSignature({ ...withBody, body: body('{"a":2}') }, { query: 'all', body: false }), 'POST /x #*')
})

test('a key function replaces the composition; a throw or a bad return falls back to the default', () => {
  const a = { method: 'get', url: '/users/42/orders?page=2', body: null }
  const byRoute = { query: 'all' as const, body: true, key: (p: { method: string; path: string }) => `${p.method} ${p.path.replace(/\/\d+/g, '/:id')}` }
  assert.equal(computeSignature(a, byRoute), 'GET /users/:id/orders')
  const parts: unknown[] = []
  computeSignature(a, { query: ['page'], body: true, key: (p) => void parts.push(p) as undefined })
  assert.deepEqual(parts, [{ method: 'GET', path: '/users/42/orders', query: '?page=2', bodyHash: '-' }], 'it sees the normalised parts, never headers')
  const fallback = 'GET /users/42/orders?page=2 #-'
  assert.equal(computeSignature(a, { query: 'all', body: true, key: () => { throw new Error('bug in the key function') } }), fallback)
  assert.equal(computeSignature(a, { query: 'all', body: true, key: () => '' }), fallback)
  assert.equal(computeSignature(a, { query: 'all', body: true, key: () => 'x'.repeat(513) }), fallback)
})

test('routeOf: method and normalised path only (the bulkhead groups by it)', () => {
  assert.equal(routeOf({ method: 'get', url: '/search//?q=%00poison1' }), 'GET /search')
  assert.equal(routeOf({ method: 'POST', url: '/a/b/#frag' }), 'POST /a/b')
})

test('query parameters sort by name only: a repeated one keeps the order of its values', () => {
  const sig = (url: string, query: 'all' | string[] = 'all') => computeSignature({ method: 'GET', url, body: null }, { query, body: true })
  // Issue 9: `?id=666&id=1` crashed the app, and sorting whole pairs gave `?id=1&id=666` its
  // signature, so the benign order was refused. Apps see the order (first wins, or last).
  assert.notEqual(sig('/item?id=666&id=1'), sig('/item?id=1&id=666'))
  assert.equal(sig('/item?id=666&id=1'), 'GET /item?id=666&id=1 #-')
  assert.equal(sig('/x?b=2&a=1&a=0'), 'GET /x?a=1&a=0&b=2 #-')
  assert.equal(sig('/x?z=1&m=2&a=3'), 'GET /x?a=3&m=2&z=1 #-', 'different names still sort')
  assert.equal(sig('/x?a=0&b=2&a=1'), 'GET /x?a=0&a=1&b=2 #-', 'values of a name keep their order across other names')
  assert.equal(sig('/x?b=1&a'), 'GET /x?a&b=1 #-', 'a name without a value sorts by its name')
  assert.equal(sig('/x?id=2&utm=x&id=1', ['id']), 'GET /x?id=2&id=1 #-', 'also when only some parameters count')
})

test('escaped names sort by their decoded name, and are kept as sent', () => {
  const sig = (url: string) => computeSignature({ method: 'GET', url, body: null })
  assert.equal(sig('/x?b=1&%61=2'), 'GET /x?%61=2&b=1 #-', '%61 is a: before b')
  assert.equal(sig('/x?%62=1&a=2'), 'GET /x?a=2&%62=1 #-', '%62 is b: after a')
  // Same decoded name: a tie, so the order as sent stands, whichever spelling comes first.
  assert.equal(sig('/x?%61=1&a=2'), 'GET /x?%61=1&a=2 #-')
  assert.equal(sig('/x?a=2&%61=1'), 'GET /x?a=2&%61=1 #-')
  assert.equal(sig('/x?c=0&a=2&%61=1'), 'GET /x?a=2&%61=1&c=0 #-')
  assert.equal(computeSignature({ method: 'GET', url: '/x?utm=1&%69d=7', body: null }, { query: ['id'], body: true }), 'GET /x?%69d=7 #-')
})

test('routeOfSignature: the route of a default signature, or the whole of a key function\'s', () => {
  for (const url of ['/search//?q=%00poison1&q=2', '/a/b/#frag', '/', '/x']) {
    for (const method of ['get', 'POST']) {
      const payload = method === 'POST' ? body('{"n":1}') : null
      assert.equal(routeOfSignature(computeSignature({ method, url, body: payload })), routeOf({ method, url }), `${method} ${url}`)
      assert.equal(routeOfSignature(computeSignature({ method, url, body: payload }, { query: 'all', body: false })), routeOf({ method, url }))
    }
  }
  assert.equal(routeOfSignature('GET /items/7?a=1&b=2 #0123456789abcdef'), 'GET /items/7')
  assert.equal(routeOfSignature('GET /users/:id/orders'), 'GET /users/:id/orders', 'a key function made it: its own route')
  assert.equal(routeOfSignature('tenant-7'), 'tenant-7')
})

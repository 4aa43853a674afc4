import assert from 'node:assert/strict'
import { test } from 'node:test'
import { computeSignature, routeOf } from '../../src/immunity/index.js'

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

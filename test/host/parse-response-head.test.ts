import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseResponseHead } from '../../src/host/parse-response-head.js'

test('reads status, message and headers, lower-casing names', () => {
  const head = parseResponseHead('HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\n')
  assert.equal(head.status, 201)
  assert.equal(head.statusMessage, 'Created')
  assert.deepEqual(head.headers, { 'content-type': 'text/plain', 'x-a': '1' })
})

test('keeps every set-cookie apart, even a single one, and arrays other repeats', () => {
  const head = parseResponseHead('HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2\r\nVary: a\r\nVary: b\r\n\r\n')
  assert.deepEqual(head.headers['set-cookie'], ['a=1; Path=/', 'b=2'])
  assert.deepEqual(head.headers.vary, ['a', 'b'])
  const single = parseResponseHead('HTTP/1.1 200 OK\r\nSet-Cookie: only=1\r\n\r\n')
  assert.deepEqual(single.headers['set-cookie'], ['only=1'])
})

test('keeps a custom status message with spaces and values containing colons', () => {
  const head = parseResponseHead('HTTP/1.1 418 I am a teapot\r\nLocation: http://x:1/y\r\n\r\n')
  assert.equal(head.status, 418)
  assert.equal(head.statusMessage, 'I am a teapot')
  assert.equal(head.headers.location, 'http://x:1/y')
})

test('request headers fold like Node: first wins for single-value headers, cookies joined', async () => {
  const { foldRawHeaders } = await import('../../src/host/headers.js')
  const folded = foldRawHeaders(['Host', 'a', 'Host', 'b', 'Content-Type', 'x', 'Content-Type', 'y', 'Cookie', 'a=1', 'Cookie', 'b=2', 'X-M', '1', 'X-M', '2', 'Set-Cookie', 'z=1'])
  assert.deepEqual(folded, { host: 'a', 'content-type': 'x', cookie: 'a=1; b=2', 'x-m': '1, 2', 'set-cookie': ['z=1'] })
})

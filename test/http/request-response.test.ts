// Request and response semantics through crashless, for a node:http listen() script and a
// fetch-style app: what the app sees of the request, and what the client sees of the response.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Agent, request } from 'undici'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { parseHead, rawExchange } from './raw-http.js'

const agent = new Agent({ connections: 4, headersTimeout: 10_000, bodyTimeout: 10_000 })
let nodeApp: CrashlessProcess
let fetchApp: CrashlessProcess

before(async () => {
  ;[nodeApp, fetchApp] = await Promise.all([
    startCrashless(fixture('http/node-app.mjs'), ['--instances', '1']),
    startCrashless(fixture('http/fetch-app.mjs'), ['--instances', '1']),
  ])
})
after(async () => {
  await Promise.all([nodeApp?.stop(), fetchApp?.stop()])
  await agent.close()
})

const QUERY = '/echo?a=1&b=two%20words&a=3&empty='
/** Repeated headers (two x-multi, two cookie lines) and a mixed-case name, as raw pairs. */
const RAW_HEADERS = ['x-multi', 'one', 'X-Multi', 'two', 'cookie', 'a=1', 'cookie', 'b=2', 'X-Mixed-Case', 'Value With  Spaces']

async function echo(server: CrashlessProcess, method: string, body?: string): Promise<Record<string, unknown>> {
  const res = await request(`${server.url}${QUERY}`, { method: method as never, headers: RAW_HEADERS, body, dispatcher: agent })
  assert.equal(res.statusCode, 200)
  return (await res.body.json()) as Record<string, unknown>
}

/** Sends `first` then a GET of /head (closing) on one connection: proves where `first`'s response ends. */
async function pipelined(server: CrashlessProcess, first: string): Promise<{ head: ReturnType<typeof parseHead>; follower: ReturnType<typeof parseHead> }> {
  // rawExchange reads until the server closes, which it does after the second response.
  const { text } = await rawExchange(server.port, `${first}\r\nHost: t\r\n\r\nGET /head HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)
  const head = parseHead(text)
  // Whatever follows the first head must be the second response, byte for byte: no body in between.
  assert.match(head.rest, /^HTTP\/1\.1 200 /, `unexpected bytes after the first response head: ${JSON.stringify(head.rest.slice(0, 80))}`)
  const follower = parseHead(head.rest)
  assert.equal(follower.rest.endsWith('hello world'), true, `second response body: ${JSON.stringify(follower.rest)}`)
  return { head, follower }
}

const headerValues = (head: ReturnType<typeof parseHead>, name: string): string[] => head.headers.filter(([n]) => n === name).map(([, v]) => v)

describe('node:http listen() app', () => {
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    test(`${method}: the app sees the method, the URL with its query, every header`, async () => {
      const seen = await echo(nodeApp, method, method === 'GET' || method === 'OPTIONS' ? undefined : 'payload')
      assert.equal(seen.method, method)
      assert.equal(seen.url, QUERY)
      const headers = seen.headers as Record<string, string>
      // Node's folding: repeats joined with ", ", cookies with "; ", names lower-cased.
      assert.equal(headers['x-multi'], 'one, two')
      assert.equal(headers.cookie, 'a=1; b=2')
      assert.equal(headers['x-mixed-case'], 'Value With  Spaces')
      assert.equal(headers.host, `127.0.0.1:${nodeApp.port}`)
      // rawHeaders keeps each occurrence, as in plain Node.
      const raw = seen.rawHeaders as string[]
      const pairs = Array.from({ length: raw.length / 2 }, (_, i) => `${raw[2 * i]!.toLowerCase()}: ${raw[2 * i + 1]}`)
      assert.deepEqual(pairs.filter((p) => p.startsWith('x-multi:')), ['x-multi: one', 'x-multi: two'])
      assert.deepEqual(pairs.filter((p) => p.startsWith('cookie:')), ['cookie: a=1', 'cookie: b=2'])
      if (method !== 'GET' && method !== 'OPTIONS') assert.equal(seen.bodyLength, 'payload'.length)
    })
  }

  test('several set-cookie headers arrive as separate headers, with a custom status message', async () => {
    const { text } = await rawExchange(nodeApp.port, 'GET /cookies HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
    const head = parseHead(text)
    assert.equal(head.statusLine, 'HTTP/1.1 201 Made It Custom')
    assert.deepEqual(headerValues(head, 'set-cookie'), ['a=1; Path=/', 'b=2; HttpOnly', 'c=3; Expires=Wed, 21 Oct 2037 07:28:00 GMT'])
    assert.deepEqual(headerValues(head, 'x-custom'), ['yes'])

    const res = await request(`${nodeApp.url}/cookies`, { dispatcher: agent })
    assert.equal(res.statusCode, 201)
    assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; HttpOnly', 'c=3; Expires=Wed, 21 Oct 2037 07:28:00 GMT'])
    assert.equal(await res.body.text(), 'cookies set')
  })

  test('statusMessage set on the response reaches the status line', async () => {
    const { text } = await rawExchange(nodeApp.port, 'GET /status-message HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
    const head = parseHead(text)
    assert.equal(head.statusLine, 'HTTP/1.1 299 Totally Fine')
    assert.match(head.rest, /odd status$/)
  })

  test('HEAD gets the headers (content-length included) and no body', async () => {
    const { head } = await pipelined(nodeApp, 'HEAD /head HTTP/1.1')
    assert.equal(head.statusLine, 'HTTP/1.1 200 OK')
    assert.deepEqual(headerValues(head, 'content-length'), ['11'])
    assert.deepEqual(headerValues(head, 'x-head-test'), ['yes'])
    assert.deepEqual(headerValues(head, 'transfer-encoding'), [])
  })

  test('204 and 304 carry no body, even when the app writes one', async () => {
    const noContent = await pipelined(nodeApp, 'GET /status/204 HTTP/1.1')
    assert.equal(noContent.head.statusLine, 'HTTP/1.1 204 No Content')
    assert.deepEqual(headerValues(noContent.head, 'x-after'), ['no-content'])
    assert.deepEqual(headerValues(noContent.head, 'transfer-encoding'), [])
    assert.deepEqual(headerValues(noContent.head, 'content-length'), [])

    const notModified = await pipelined(nodeApp, 'GET /status/304 HTTP/1.1')
    assert.equal(notModified.head.statusLine, 'HTTP/1.1 304 Not Modified')
    assert.deepEqual(headerValues(notModified.head, 'etag'), ['"v1"'])
    assert.deepEqual(headerValues(notModified.head, 'transfer-encoding'), [])
  })

  test('an empty 200 response has an empty body', async () => {
    const res = await request(`${nodeApp.url}/empty`, { dispatcher: agent })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['x-empty'], 'yes')
    assert.equal(await res.body.text(), '')
  })
})

describe('fetch-style app', () => {
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    test(`${method}: the Request carries the method, the absolute URL with its query, every header`, async () => {
      const seen = await echo(fetchApp, method, method === 'GET' || method === 'OPTIONS' ? undefined : 'payload')
      assert.equal(seen.method, method)
      assert.equal(seen.url, `http://127.0.0.1:${fetchApp.port}${QUERY}`)
      const headers = Object.fromEntries(seen.headers as [string, string][])
      assert.equal(headers['x-multi'], 'one, two')
      // Several cookie lines are one cookie list (RFC 9113 §8.2.3 folds them with "; ").
      assert.equal(headers.cookie, 'a=1; b=2')
      assert.equal(headers['x-mixed-case'], 'Value With  Spaces')
      assert.equal(headers.host, `127.0.0.1:${fetchApp.port}`)
      if (method !== 'GET' && method !== 'OPTIONS') assert.equal(seen.bodyLength, 'payload'.length)
    })
  }

  test('several set-cookie headers arrive as separate headers, with a custom statusText', async () => {
    const { text } = await rawExchange(fetchApp.port, 'GET /cookies HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
    const head = parseHead(text)
    assert.equal(head.statusLine, 'HTTP/1.1 201 Made It Custom')
    assert.deepEqual(headerValues(head, 'set-cookie'), ['a=1; Path=/', 'b=2; HttpOnly', 'c=3; Expires=Wed, 21 Oct 2037 07:28:00 GMT'])
    assert.deepEqual(headerValues(head, 'x-custom'), ['yes'])
    assert.match(head.rest, /cookies set/)
  })

  test('HEAD gets the headers and no body', async () => {
    const { head } = await pipelined(fetchApp, 'HEAD /head HTTP/1.1')
    assert.equal(head.statusLine, 'HTTP/1.1 200 OK')
    assert.deepEqual(headerValues(head, 'content-length'), ['11'])
    assert.deepEqual(headerValues(head, 'x-head-test'), ['yes'])
    assert.deepEqual(headerValues(head, 'transfer-encoding'), [])
  })

  test('204 and 304 carry no body', async () => {
    const noContent = await pipelined(fetchApp, 'GET /status/204 HTTP/1.1')
    assert.equal(noContent.head.statusLine, 'HTTP/1.1 204 No Content')
    assert.deepEqual(headerValues(noContent.head, 'x-after'), ['no-content'])
    assert.deepEqual(headerValues(noContent.head, 'transfer-encoding'), [])
    assert.deepEqual(headerValues(noContent.head, 'content-length'), [])

    const notModified = await pipelined(fetchApp, 'GET /status/304 HTTP/1.1')
    assert.equal(notModified.head.statusLine, 'HTTP/1.1 304 Not Modified')
    assert.deepEqual(headerValues(notModified.head, 'etag'), ['"v1"'])
    assert.deepEqual(headerValues(notModified.head, 'transfer-encoding'), [])
  })
})

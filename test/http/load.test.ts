// The fault-free path under moderate concurrent load: 2,000 requests over 20 keep-alive
// connections, a mix of GETs and POSTs with bodies; every response is checked against its
// own request, and none may be lost or crossed.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'
import { Pool } from 'undici'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { withTimeout } from './http-harness.js'

const REQUESTS = 2_000
const CONNECTIONS = 20
let server: CrashlessProcess
let pool: Pool

before(async () => {
  server = await startCrashless(fixture('http/node-app.mjs'), ['--instances', '2'])
  pool = new Pool(server.url, { connections: CONNECTIONS, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 })
})
after(async () => {
  await pool?.close()
  await server?.stop()
})

interface LoadAnswer {
  i: number
  header: string
  sha256: string | null
  threadId: number
}

test(`${REQUESTS} requests over ${CONNECTIONS} keep-alive connections: every answer correct, none lost`, async () => {
  let connects = 0
  pool.on('connect', () => connects++)
  const one = async (i: number): Promise<LoadAnswer> => {
    const body = i % 4 === 0 ? randomBytes(256 + (i % 1024)) : undefined
    const res = await pool.request({
      path: `/load?i=${i}`,
      method: body ? 'POST' : 'GET',
      headers: { 'x-n': String(i) },
      body,
    })
    assert.equal(res.statusCode, 200, `request ${i}`)
    const answer = (await res.body.json()) as LoadAnswer
    // The answer belongs to this request: nothing crossed between concurrent requests.
    assert.equal(answer.i, i)
    assert.equal(answer.header, String(i))
    assert.equal(answer.sha256, body ? createHash('sha256').update(body).digest('hex') : null)
    return answer
  }
  // At most CONNECTIONS requests outstanding, so each connection carries a steady stream.
  let next = 0
  const answers: LoadAnswer[] = []
  const worker = async (): Promise<void> => {
    while (next < REQUESTS) answers.push(await one(next++))
  }
  const started = performance.now()
  await withTimeout(Promise.all(Array.from({ length: CONNECTIONS }, worker)), 45_000, 'the load did not complete')
  const elapsed = performance.now() - started

  assert.equal(answers.length, REQUESTS)
  assert.deepEqual(
    answers.map((a) => a.i).sort((a, b) => a - b),
    Array.from({ length: REQUESTS }, (_, i) => i),
    'every request answered exactly once',
  )
  // Keep-alive held: no connection was closed and reopened along the way.
  assert.ok(connects <= CONNECTIONS, `${connects} connections opened for ${REQUESTS} requests`)
  // Both instances took part.
  const threads = new Set(answers.map((a) => a.threadId))
  assert.equal(threads.size, 2, `answers came from threads ${[...threads].join(', ')}`)
  assert.deepEqual(
    server.logs.filter((l) => l.level >= 40),
    [],
    'no warnings or errors logged under fault-free load',
  )
  // Informational: visible in the test output.
  console.log(`# ${REQUESTS} requests in ${elapsed.toFixed(0)} ms (${((REQUESTS / elapsed) * 1000).toFixed(0)} req/s)`)
})

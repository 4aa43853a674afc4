/**
 * The admin endpoint of a real crashless: loopback by default, JSON answers for every route
 * and every mistake, health of the pool, and a Host check against DNS rebinding.
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { networkInterfaces } from 'node:os'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, startIn, tempDir } from './run-cli.js'

let server: CrashlessProcess & { adminUrl: string }

before(async () => {
  server = await startIn(tempDir(), { admin: { port: 0 }, immunity: { store: 'memory' } })
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

/** One raw request to the admin endpoint; `host` overrides the Host header. */
function call(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.adminUrl}${path}`, { method, headers, timeout: 5_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (c: string) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: text === '' ? null : JSON.parse(text) }))
    })
    req.on('timeout', () => req.destroy(new Error('admin request timed out')))
    req.on('error', reject)
    req.end()
  })
}

test('binds 127.0.0.1 by default and logs admin-listening with its port', async () => {
  const line = server.logs.find((l) => l.event === 'admin-listening')!
  assert.equal(line.address, '127.0.0.1')
  assert.ok(typeof line.port === 'number' && line.port > 0)
  assert.equal(line.token, false)
  // Not reachable on this machine's other addresses.
  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)
  if (external) {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = httpRequest({ host: external.address, port: line.port as number, path: '/health', timeout: 3_000 }, resolve)
        req.on('timeout', () => req.destroy(new Error('timeout')))
        req.on('error', reject)
        req.end()
      }),
      /ECONNREFUSED|timeout/,
    )
  }
})

test('GET /health reports instances, spares and pending requests', async () => {
  const { status, json } = await call('GET', '/health')
  assert.equal(status, 200)
  assert.deepEqual(json, { status: 'ok', instances: { active: 2, ready: 2, spares: 1 }, pending: 0, quarantined: 0 })
})

test('GET /immunity lists nothing on a fresh start', async () => {
  const { status, headers, json } = await call('GET', '/immunity')
  assert.equal(status, 200)
  assert.match(String(headers['content-type']), /^application\/json/)
  assert.deepEqual(json, { entries: [], next: null })
})

test('mistakes get JSON errors: unknown route 404, unknown signature 404, bad encoding 400, wrong method 405', async () => {
  const unknown = await call('GET', '/nope')
  assert.equal(unknown.status, 404)
  assert.equal((unknown.json as { error: { code: string } }).error.code, 'CRASHLESS_ERR_NOT_FOUND')

  const missing = await call('DELETE', `/immunity/${encodeURIComponent('GET /never #-')}`)
  assert.equal(missing.status, 404)
  assert.equal((missing.json as { error: { code: string } }).error.code, 'CRASHLESS_ERR_NOT_FOUND')

  const malformed = await call('DELETE', '/immunity/%E0%A4%A')
  assert.equal(malformed.status, 400)
  assert.equal((malformed.json as { error: { code: string } }).error.code, 'CRASHLESS_ERR_BAD_REQUEST')

  const empty = await call('DELETE', '/immunity/')
  assert.equal(empty.status, 400)

  const wrongMethod = await call('POST', '/immunity')
  assert.equal(wrongMethod.status, 405)
  assert.equal(wrongMethod.headers.allow, 'GET, HEAD')
})

test('a Host header that is not loopback is refused (DNS rebinding)', async () => {
  const rebound = await call('GET', '/immunity', { host: `evil.example:${new URL(server.adminUrl).port}` })
  assert.equal(rebound.status, 403)
  assert.equal((rebound.json as { error: { code: string } }).error.code, 'CRASHLESS_ERR_FORBIDDEN')
  const local = await call('GET', '/health', { host: `localhost:${new URL(server.adminUrl).port}` })
  assert.equal(local.status, 200)
})

test('the Host header is parsed strictly: userinfo, paths and other shapes around a loopback name are refused', async () => {
  for (const host of ['127.0.0.1:80@evil.example', '127.0.0.1@evil.example', 'evil.example#127.0.0.1', '127.0.0.1:80/x', 'localhost:9300:1', '[::1]x']) {
    const { status, json } = await call('GET', '/health', { host })
    assert.equal(status, 403, `Host: ${host}`)
    assert.equal((json as { error: { code: string } }).error.code, 'CRASHLESS_ERR_FORBIDDEN')
  }
  for (const host of ['127.0.0.1', `127.0.0.1:${new URL(server.adminUrl).port}`, '[::1]:9300', 'LOCALHOST']) {
    assert.equal((await call('GET', '/health', { host })).status, 200, `Host: ${host}`)
  }
})

test('GET /immunity rejects a limit outside 1 to 1000', async () => {
  for (const limit of ['0', '1001', 'x', '1.5']) {
    const { status, json } = await call('GET', `/immunity?limit=${limit}`)
    assert.equal(status, 400, `limit=${limit}`)
    assert.equal((json as { error: { code: string } }).error.code, 'CRASHLESS_ERR_BAD_REQUEST')
  }
})

test('the service keeps serving on its own port', async () => {
  const res = await fetch(`${server.url}/ok?tag=admin`)
  assert.equal(await res.text(), 'ok admin')
})

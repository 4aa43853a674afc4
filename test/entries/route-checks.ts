/**
 * The routes every fixture under test/fixtures/entries/ serves, checked the same way whatever
 * the framework: a JSON GET, a JSON POST echo, two set-cookie headers, a query parameter and a
 * 404. Each call registers one `describe` block that starts the app once under crashless.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'

export interface EntryCase {
  /** Fixture path under test/fixtures/entries/. */
  file: string
  /** What the fixture reports as `app` in GET /json. */
  app: string
  style: 'fetch' | 'node' | 'listen'
  /**
   * Port handed to the app as PORT with no --port flag: crashless must serve on it. Omitted
   * for apps that cannot ask for a port (handler exports), which get `--port 0`.
   */
  appPort?: () => Promise<number>
  /** `--isolation`: the same routes must behave the same in a child process. Default: worker. */
  isolation?: 'worker' | 'process'
}

/**
 * A port that was free a moment ago: bound on all interfaces (as crashless binds when the app
 * names no host) with port 0, then released.
 */
export async function freePort(): Promise<number> {
  const probe = createServer()
  probe.listen(0)
  await once(probe, 'listening')
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** The base URL a client uses for the address crashless reported in its `listening` line. */
function baseUrl(server: CrashlessProcess): string {
  const address = server.logs.find((l) => l.event === 'listening')?.address
  if (typeof address !== 'string' || address === '::' || address === '0.0.0.0') return server.url
  return address.includes(':') ? `http://[${address}]:${server.port}` : `http://${address}:${server.port}`
}

/** Registers the route tests for one fixture app. */
export function describeEntry(entry: EntryCase): void {
  describe(`${entry.file} (${entry.style} style${entry.isolation === 'process' ? ', isolation: process' : ''})`, () => {
    let server: CrashlessProcess
    let url: string
    let askedPort: number | undefined

    before(async () => {
      for (let attempt = 1; ; attempt++) {
        askedPort = entry.appPort ? await entry.appPort() : undefined
        try {
          server = await startCrashless(fixture(`entries/${entry.file}`), ['--instances', '2', ...(entry.isolation ? ['--isolation', entry.isolation] : [])], {
            omitPort: askedPort !== undefined,
            env: askedPort !== undefined ? { PORT: String(askedPort) } : {},
          })
          break
        } catch (err) {
          // Another process may take the free port between the probe and crashless binding it.
          if (attempt === 3 || !/EADDRINUSE/.test(String(err))) throw err
        }
      }
      url = baseUrl(server)
    })
    after(async () => {
      await server?.stop()
    })

    test('is detected as the expected entry style', () => {
      const listening = server.logs.find((l) => l.event === 'listening')!
      assert.equal(listening.style, entry.style)
      assert.equal(listening.instances, 2)
      if (askedPort !== undefined) assert.equal(server.port, askedPort, 'serves on the port the script asked for')
    })

    test('GET answers JSON', async () => {
      const res = await fetch(`${url}/json`)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
      assert.deepEqual(await res.json(), { ok: true, app: entry.app })
    })

    test('POST round-trips a JSON body', async () => {
      const payload = { text: 'héllo wörld ✓', list: [1, 2, 3], nested: { yes: true, none: null }, big: 'x'.repeat(20_000) }
      const res = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) })
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
      assert.deepEqual(await res.json(), { received: payload })
    })

    test('two set-cookie headers arrive as two headers', async () => {
      const res = await fetch(`${url}/cookies`)
      assert.equal(res.status, 200)
      const cookies = res.headers.getSetCookie()
      assert.equal(cookies.length, 2, `set-cookie headers: ${JSON.stringify(cookies)}`)
      assert.match(cookies[0]!, /^a=1;/i)
      assert.match(cookies[1]!, /^b=2;/i)
      assert.deepEqual(await res.json(), { cookies: 2 })
    })

    test('reads a query parameter', async () => {
      const res = await fetch(`${url}/query?name=z%C3%BC%20rich&other=1`)
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { name: 'zü rich' })
    })

    test('an unknown route is a 404 from the app', async () => {
      const res = await fetch(`${url}/no/such/route`)
      assert.equal(res.status, 404)
      // The app's own 404, not a crashless error (those carry a CRASHLESS_ERR_ code).
      assert.doesNotMatch(await res.text(), /CRASHLESS_ERR_/)
    })

    test('concurrent requests are all answered', async () => {
      const results = await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const res = await fetch(`${url}/query?name=${i}`)
          return { status: res.status, body: (await res.json()) as unknown }
        }),
      )
      results.forEach((r, i) => assert.deepEqual(r, { status: 200, body: { name: String(i) } }))
    })
  })
}

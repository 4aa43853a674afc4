// Request and response bodies through crashless: binary both ways, empty, and chunked request
// bodies streamed by the client, for a node:http listen() script and a fetch-style app.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { setImmediate as tick } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'

const agent = new Agent({ connections: 4, headersTimeout: 15_000, bodyTimeout: 15_000 })
const servers: Record<string, CrashlessProcess> = {}

before(async () => {
  ;[servers.node, servers.fetch] = await Promise.all([
    startCrashless(fixture('http/node-app.mjs'), ['--instances', '1']),
    startCrashless(fixture('http/fetch-app.mjs'), ['--instances', '1']),
  ])
})
after(async () => {
  await Promise.all(Object.values(servers).map((s) => s.stop()))
  await agent.close()
})

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')
const EMPTY_SHA = sha256(new Uint8Array(0))

/** Parts yielded one per tick: as a stream of unknown length, undici sends them with transfer-encoding: chunked. */
async function* chunked(parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    yield part
    await tick()
  }
}

for (const style of ['node', 'fetch'] as const) {
  describe(`${style} app`, () => {
    test('1 MiB of random bytes goes in and comes back byte for byte', async () => {
      const sent = randomBytes(1024 * 1024)
      const res = await request(`${servers[style]!.url}/binary`, { method: 'POST', body: sent, headers: { 'content-type': 'application/octet-stream' }, dispatcher: agent })
      assert.equal(res.statusCode, 200)
      assert.equal(res.headers['x-sha256'], sha256(sent), 'the app hashed exactly the bytes sent')
      assert.equal(res.headers['x-length'], String(sent.length))
      const got = Buffer.from(await res.body.arrayBuffer())
      assert.equal(got.length, sent.length)
      assert.ok(got.equals(sent), 'the echoed body differs from what was sent')
    })

    test('bytes that are not valid UTF-8 survive both ways', async () => {
      // Every byte value, and sequences a text decoder would replace.
      const sent = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x00])])
      const res = await request(`${servers[style]!.url}/binary`, { method: 'PUT', body: sent, dispatcher: agent })
      assert.equal(res.headers['x-sha256'], sha256(sent))
      assert.ok(Buffer.from(await res.body.arrayBuffer()).equals(sent))
    })

    test('an empty body (content-length: 0) and no body at all', async () => {
      const empty = await request(`${servers[style]!.url}/echo`, { method: 'POST', body: '', headers: { 'content-length': '0' }, dispatcher: agent })
      const seenEmpty = (await empty.body.json()) as { bodyLength: number; sha256: string }
      assert.equal(seenEmpty.bodyLength, 0)
      assert.equal(seenEmpty.sha256, EMPTY_SHA)

      const none = await request(`${servers[style]!.url}/echo`, { method: 'DELETE', dispatcher: agent })
      const seenNone = (await none.body.json()) as { bodyLength: number }
      assert.equal(seenNone.bodyLength, 0)

      const echoed = await request(`${servers[style]!.url}/binary`, { method: 'POST', body: '', dispatcher: agent })
      assert.equal(echoed.statusCode, 200)
      assert.equal(echoed.headers['x-length'], '0')
      assert.equal((await echoed.body.arrayBuffer()).byteLength, 0)
    })

    test('a chunked request body streamed by the client arrives whole', async () => {
      const parts = Array.from({ length: 16 }, (_, i) => randomBytes(48 * 1024 + i))
      const whole = Buffer.concat(parts)
      const res = await request(`${servers[style]!.url}/echo`, { method: 'POST', body: Readable.from(chunked(parts)), dispatcher: agent })
      assert.equal(res.statusCode, 200)
      const seen = (await res.body.json()) as { bodyLength: number; sha256: string; headers: unknown }
      // The request really went out chunked (no content-length), as the app can tell.
      const headers = style === 'node' ? (seen.headers as Record<string, string>) : Object.fromEntries(seen.headers as [string, string][])
      assert.equal(headers['transfer-encoding'], 'chunked')
      assert.equal(headers['content-length'], undefined)
      assert.equal(seen.bodyLength, whole.length)
      assert.equal(seen.sha256, sha256(whole))
    })

    test('a chunked request body with no chunks is an empty body', async () => {
      const res = await request(`${servers[style]!.url}/echo`, { method: 'POST', body: Readable.from(chunked([])), dispatcher: agent })
      assert.equal(res.statusCode, 200)
      const seen = (await res.body.json()) as { bodyLength: number; sha256: string }
      assert.equal(seen.bodyLength, 0)
      assert.equal(seen.sha256, EMPTY_SHA)
    })

    test('a chunked 1 MiB binary echo comes back byte for byte', async () => {
      const parts = Array.from({ length: 8 }, () => randomBytes(128 * 1024))
      const whole = Buffer.concat(parts)
      const res = await request(`${servers[style]!.url}/binary`, { method: 'POST', body: Readable.from(chunked(parts)), dispatcher: agent })
      assert.equal(res.headers['x-sha256'], sha256(whole))
      assert.ok(Buffer.from(await res.body.arrayBuffer()).equals(whole))
    })
  })
}

/**
 * The store API through real requests on the default (sqlite) backend: get/set/delete/getMany/
 * list, JSON and binary values, TTLs, read-your-writes, the refusals (outside a request, after
 * the response, bad values, no sessions), for a fetch handler (`import { store }` and `ctx.store`)
 * and an Express app (`req.crashless.store`).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { cleanup, getKey, send, sendJson, setKey, startApp, tempDir } from './harness.js'

let server: CrashlessProcess
let base: string
let dir: string
let express: CrashlessProcess

before(async () => {
  dir = tempDir()
  ;[server, express] = await Promise.all([startApp('store-fetch.mjs', {}, dir), startApp('store-express.mjs')])
  base = server.url
})
after(cleanup)

test('the default backend is sqlite, in .crashless/state.db under the working directory', async () => {
  const opened = await server.waitForLog((l) => l.event === 'state-open')
  assert.equal(opened.backend, 'sqlite')
  assert.equal(opened.where, join(dir, '.crashless', 'state.db'))
  assert.ok(existsSync(join(dir, '.crashless', 'state.db')))
})

test('outside a request, store throws CRASHLESS_ERR_NO_REQUEST with a clear message', async () => {
  const outside = await sendJson<{ code: string; message: string }>(`${base}/outside`)
  assert.equal(outside.code, 'CRASHLESS_ERR_NO_REQUEST')
  assert.match(outside.message, /store was used outside a request/)
})

test('set, get and delete JSON values of every kind', async () => {
  const values: unknown[] = [{ nested: { list: [1, 'two', null] } }, [1, 2, 3], 'text é 🚀', 42.5, 0, true, false, null]
  for (const [i, value] of values.entries()) await setKey(base, `kind:${i}`, value)
  for (const [i, value] of values.entries()) assert.deepEqual(await getKey(base, `kind:${i}`), value, `kind:${i}`)
  await sendJson(`${base}/delete?k=kind:0`, { method: 'POST' })
  assert.equal(await getKey(base, 'kind:0'), undefined)
  // Deleting an absent key is fine.
  await sendJson(`${base}/delete?k=never-written`, { method: 'POST' })
})

test('getMany answers in the order asked, absent keys as missing', async () => {
  await setKey(base, 'many:x', 'X')
  await setKey(base, 'many:y', { y: true })
  const { values } = await sendJson<{ values: unknown[] }>(`${base}/many?keys=many:y,many:none,many:x`)
  assert.deepEqual(values, [{ y: true }, null, 'X'])
})

test('list by key prefix: key order, limit, after', async () => {
  for (const key of ['list:b', 'list:a', 'list:c', 'lister', 'other:a']) await setKey(base, key, key.toUpperCase())
  const all = await sendJson<{ entries: { key: string; value: string }[] }>(`${base}/list?prefix=list:`)
  assert.deepEqual(all.entries, [
    { key: 'list:a', value: 'LIST:A' },
    { key: 'list:b', value: 'LIST:B' },
    { key: 'list:c', value: 'LIST:C' },
  ])
  const page = await sendJson<{ entries: { key: string }[] }>(`${base}/list?prefix=list:&limit=2`)
  assert.deepEqual(page.entries.map((e) => e.key), ['list:a', 'list:b'])
  const next = await sendJson<{ entries: { key: string }[] }>(`${base}/list?prefix=list:&limit=2&after=list:b`)
  assert.deepEqual(next.entries.map((e) => e.key), ['list:c'])
})

test('binary values round-trip byte for byte and come back as Uint8Array (through ctx.store)', async () => {
  const bytes = new Uint8Array(256).map((_, i) => i)
  const put = await send(`${base}/bin?k=blob`, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } })
  assert.equal(put.status, 200, put.body)
  const { request } = await import('undici')
  const res = await request(`${base}/bin?k=blob`)
  const back = new Uint8Array(await res.body.arrayBuffer())
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['x-is-uint8array'], 'true')
  assert.deepEqual(back, bytes)
})

test('a TTL makes a key expire; keys without one stay', async () => {
  const ttlMs = 400
  await setKey(base, 'ttl:short', 'soon gone', ttlMs)
  await setKey(base, 'ttl:none', 'stays')
  const setAt = performance.now()
  assert.equal(await getKey(base, 'ttl:short'), 'soon gone')
  // Expiry is a matter of time: poll (bounded) until it is gone, and check it did not go early.
  let goneAfter = -1
  for (let polls = 0; polls < 100; polls++) {
    if ((await getKey(base, 'ttl:short')) === undefined) {
      goneAfter = performance.now() - setAt
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  assert.ok(goneAfter >= 0, 'the key never expired')
  assert.ok(goneAfter >= ttlMs - 50, `expired after ${goneAfter.toFixed(0)} ms, before its TTL of ${ttlMs} ms`)
  assert.equal(await getKey(base, 'ttl:none'), 'stays')
})

test('a request reads its own writes and deletes, in get, getMany and list; all commit together', async () => {
  await setKey(base, 'ryw:committed', 'C')
  const seen = await sendJson<Record<string, unknown>>(`${base}/ryw?p=ryw`, { method: 'POST' })
  assert.equal(seen.afterSet, 'A')
  assert.deepEqual(seen.listAfterSet, [
    { key: 'ryw:a', value: 'A' },
    { key: 'ryw:committed', value: 'C' },
  ])
  assert.equal(seen.afterDelete, null)
  assert.deepEqual(seen.listAfterDelete, [{ key: 'ryw:a', value: 'A' }])
  assert.deepEqual(seen.many, ['A', null, null])
  assert.equal(await getKey(base, 'ryw:a'), 'A')
  assert.equal(await getKey(base, 'ryw:committed'), undefined)
})

test('values JSON cannot carry and empty keys are refused at the call, with CRASHLESS_ERR_STATE', async () => {
  const errors = await sendJson<Record<string, { code: string; message: string }>>(`${base}/bad-value`, { method: 'POST' })
  assert.equal(errors.undef!.code, 'CRASHLESS_ERR_STATE')
  assert.match(errors.undef!.message, /use delete\(\)/)
  assert.equal(errors.fn!.code, 'CRASHLESS_ERR_STATE')
  assert.equal(errors.key!.code, 'CRASHLESS_ERR_STATE')
  assert.match(errors.key!.message, /non-empty string/)
})

test('session without sessions configured throws CRASHLESS_ERR_NO_SESSION', async () => {
  const error = await sendJson<{ code: string; message: string }>(`${base}/session`)
  assert.equal(error.code, 'CRASHLESS_ERR_NO_SESSION')
  assert.match(error.message, /sessions are not configured/)
})

test('a streamed response commits with its head; writes after the head are refused', async () => {
  const answer = await send(`${base}/stream?k=stream:1`, { method: 'POST' })
  assert.equal(answer.status, 200)
  assert.equal(answer.body, 'part1;late=CRASHLESS_ERR_STATE')
  assert.equal(await getKey(base, 'stream:1'), 'streamed')
  assert.equal(await getKey(base, 'stream:1:late'), undefined)
})

test('a write after the response was sent is refused, and never applied', async () => {
  await sendJson(`${base}/after-response?k=late:1`, { method: 'POST' })
  const outcome = await server.waitForLog((l) => l.event === 'fixture-late-write' && l.key === 'late:1', 5_000)
  assert.equal(outcome.code, 'CRASHLESS_ERR_STATE')
  assert.equal(await getKey(base, 'late:1'), undefined)
})

test('Express: req.crashless.store works, and is not an enumerable property of req', async () => {
  await setKey(express.url, 'ex:1', { via: 'req.crashless' })
  assert.deepEqual(await getKey(express.url, 'ex:1'), { via: 'req.crashless' })
  assert.deepEqual(await sendJson(`${express.url}/ctx-enumerable`), { enumerable: false, hasStore: true })
})

test('Express: a route that throws after writing gets Express\'s 500, and its writes are dropped', async () => {
  const answer = await send(`${express.url}/fail/throw?k=ex:thrown`, { method: 'POST' })
  assert.equal(answer.status, 500)
  assert.equal(await getKey(express.url, 'ex:thrown'), undefined)
})

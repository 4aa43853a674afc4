/**
 * The instance-side Transaction against a real backend, over a real MessageChannel answered by
 * the dispatcher's own read handler: listing over buffered writes and deletes (pages, limits,
 * `after`), what a sealed transaction carries, and the refusals. Plus the public API's refusal
 * outside crashless, and (at compile time) its types.
 */
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { after, before, test } from 'node:test'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { answerStoreRead } from '../../src/dispatch/store-reads.js'
import { StoreClient } from '../../src/host/store-client.js'
import { Transaction } from '../../src/host/transaction.js'
import { store, session, type CrashlessContext, type Store } from '../../src/index.js'
import type { StoreReadMessage } from '../../src/protocol.js'
import { MemoryBackend } from '../../src/state/index.js'

const backend = new MemoryBackend()
const channel = new MessageChannel()
let client: StoreClient

before(async () => {
  // The dispatcher's side: answer every read from the backend.
  channel.port2.on('message', (msg: StoreReadMessage) => void answerStoreRead(backend, msg).then((answer) => channel.port2.postMessage(answer)))
  client = new StoreClient(channel.port1 as unknown as MessagePort)
  channel.port1.on('message', (msg) => client.receive(msg))
  const bytes = (s: string) => new TextEncoder().encode(s)
  await backend.commit([], 'abcdefghij'.split('').map((c) => ({ key: `k:${c}`, value: bytes(c) })))
})
after(async () => {
  channel.port1.close()
  await backend.close()
})

const text = (value: Uint8Array | null | undefined) => (value ? new TextDecoder().decode(value) : null)
const keys = (entries: { key: string }[]) => entries.map((e) => e.key.slice(2)).join('')
let nextId = 1
const tx = () => new Transaction(nextId++, client)

test('list: buffered deletes do not shorten a page', async () => {
  const t = tx()
  for (const c of 'bcd') t.delete(`k:${c}`)
  assert.equal(keys(await t.list('k:', 3, undefined)), 'aef')
  assert.equal(keys(await t.list('k:', Infinity, undefined)), 'aefghij')
})

test('list: buffered sets take their place in key order, pages and `after` included', async () => {
  const t = tx()
  t.set('k:bb', new TextEncoder().encode('new'), undefined)
  t.set('k:z', new TextEncoder().encode('last'), undefined)
  t.set('k:c', new TextEncoder().encode('changed'), undefined)
  const page = await t.list('k:', 4, undefined)
  assert.equal(keys(page), 'abbbc')
  assert.equal(text(page[3]!.value), 'changed')
  assert.equal(keys(await t.list('k:', 3, 'k:i')), 'jz')
  assert.equal(keys(await t.list('k:', 0, undefined)), '')
})

test('list: a page cut short by keys known absent to this request is refilled from the next page', async () => {
  const t = tx()
  // The request read these as absent first (so it keeps seeing them absent), then another
  // request created them: they are on the committed page, yet not in this request's view.
  await t.get(['k:a0', 'k:a1', 'k:a2'])
  const bytes = new TextEncoder().encode('x')
  await backend.commit([], ['k:a0', 'k:a1', 'k:a2'].map((key) => ({ key, value: bytes })))
  assert.equal(keys(await t.list('k:', 3, undefined)), 'abc')
  await backend.commit([], ['k:a0', 'k:a1', 'k:a2'].map((key) => ({ key, value: null })))
})

test('seal: reads and writes travel; a one-snapshot read-only transaction carries nothing', async () => {
  const readOnce = tx()
  await readOnce.get(['k:a', 'k:b'])
  assert.equal(readOnce.seal(), undefined)

  const readTwice = tx()
  await readTwice.get(['k:a'])
  await readTwice.get(['k:nope'])
  const checked = readTwice.seal()!
  assert.deepEqual(checked.writes, [])
  assert.deepEqual(checked.reads.map((r) => [r.key, r.version > 0]), [['k:a', true], ['k:nope', false]])

  const writer = tx()
  const [a] = await writer.get(['k:a'])
  assert.equal(text(a), 'a')
  writer.set('k:a', new TextEncoder().encode('A'), 5_000)
  writer.delete('k:b')
  const payload = writer.seal()!
  assert.deepEqual(payload.reads.map((r) => r.key), ['k:a'])
  assert.deepEqual(payload.writes.map((w) => [w.key, text(w.value), w.ttlMs]), [['k:a', 'A', 5_000], ['k:b', null, undefined]])
  assert.throws(() => writer.set('k:c', new Uint8Array(1), undefined), { code: 'CRASHLESS_ERR_STATE', message: /already sent/ })
  assert.throws(() => writer.delete('k:c'), { code: 'CRASHLESS_ERR_STATE' })
})

test('outside crashless, store and session reject with CRASHLESS_ERR_NO_REQUEST', async () => {
  await assert.rejects(store.get('x'), { code: 'CRASHLESS_ERR_NO_REQUEST', message: /only in an app served by crashless/ })
  await assert.rejects(session.set('x', 1), { code: 'CRASHLESS_ERR_NO_REQUEST', message: /^session works only/ })
})

// Compile-time checks of the public types (never called).
export function typed(req: IncomingMessage, ctx: CrashlessContext): void {
  const fromReq: Store = req.crashless.store
  void fromReq.get<number>('n').then((n: number | undefined) => n)
  void ctx.session.list<{ sku: string }>('cart:', { limit: 10 }).then((entries) => entries.map((e) => e.value.sku))
  void store.set('bytes', new Uint8Array(2), { ttlMs: 1000 })
  // @ts-expect-error undefined is not a storable value
  void store.set('nothing', undefined)
}

/**
 * The snapshot rule of a request's reads with a read cache (Transaction.countRead): reads
 * between which no invalidation reached the instance are one snapshot and need no validation;
 * an invalidation in between makes the request's reads validated at commit. A real
 * MessageChannel stands between the instance's StoreClient and a dispatcher side that answers
 * from a MemoryBackend and, like the dispatcher, sends the keys of every commit it applies.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { answerStoreRead } from '../../src/dispatch/store-reads.js'
import { StoreClient } from '../../src/host/store-client.js'
import { Transaction } from '../../src/host/transaction.js'
import type { StoreReadMessage, ToInstance } from '../../src/protocol.js'
import { MemoryBackend } from '../../src/state/index.js'

const backend = new MemoryBackend()
const channel = new MessageChannel()
let client: StoreClient
let nextId = 1
const bytes = (s: string) => new TextEncoder().encode(s)

/** Commits on the dispatcher side and tells the instance, as commit.ts's onCommitted does. */
async function commitAndInvalidate(keys: string[]): Promise<void> {
  await backend.commit([], keys.map((key) => ({ key, value: bytes(`v${nextId}`) })))
  const message: ToInstance = { type: 'store-invalidate', keys }
  channel.port2.postMessage(message)
  // The instance handles it before the next read's answer (one ordered channel): wait for it here.
  await new Promise<void>((resolve) => {
    const seen = client.epoch
    const poll = (): void => (client.epoch !== seen ? resolve() : void setImmediate(poll))
    poll()
  })
}

before(async () => {
  channel.port2.on('message', (msg: StoreReadMessage) => void answerStoreRead(backend, msg).then((answer) => channel.port2.postMessage(answer)))
  client = new StoreClient(channel.port1 as unknown as MessagePort, 1 << 20)
  channel.port1.on('message', (msg: ToInstance) => (msg.type === 'store-invalidate' ? client.invalidate(msg.keys) : client.receive(msg as never)))
  await backend.commit([], ['a', 'b', 'c'].map((key) => ({ key, value: bytes(key) })))
})
after(async () => {
  channel.port1.close()
  await backend.close()
})

test('three gets with no invalidation between them, cached or not, are one snapshot: nothing to validate', async () => {
  const cold = new Transaction(nextId++, client)
  for (const key of ['a', 'b', 'c']) await cold.get([key])
  assert.equal(cold.seal(), undefined, 'round trips at one epoch')
  const warm = new Transaction(nextId++, client)
  for (const key of ['a', 'b', 'c']) await warm.get([key])
  assert.equal(warm.seal(), undefined, 'from the cache')
})

test('an invalidation between two reads of a request makes its reads validated at commit', async () => {
  const t = new Transaction(nextId++, client)
  await t.get(['a'])
  await commitAndInvalidate(['b'])
  await t.get(['b'])
  const sealed = t.seal()
  assert.ok(sealed, 'validated')
  assert.deepEqual(sealed.reads.map((r) => r.key), ['a', 'b'])
})

test('an invalidation of keys the request never reads also counts: the rule is per message, not per key', async () => {
  const t = new Transaction(nextId++, client)
  await t.get(['a'])
  await commitAndInvalidate(['zzz'])
  await t.get(['c'])
  assert.ok(t.seal(), 'validated')
})

test('without a cache (no invalidations are sent), two round trips are two snapshots: validated', async () => {
  const own = new MessageChannel()
  own.port2.on('message', (msg: StoreReadMessage) => void answerStoreRead(backend, msg).then((answer) => own.port2.postMessage(answer)))
  const bare = new StoreClient(own.port1 as unknown as MessagePort, 0)
  own.port1.on('message', (msg) => bare.receive(msg))
  try {
    assert.equal(bare.epoch, null)
    const once = new Transaction(nextId++, bare)
    await once.get(['a', 'b'])
    assert.equal(once.seal(), undefined, 'one round trip is one snapshot')
    const twice = new Transaction(nextId++, bare)
    await twice.get(['a'])
    await twice.get(['b'])
    assert.ok(twice.seal(), 'validated')
  } finally {
    own.port1.close()
  }
})

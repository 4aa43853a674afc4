import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import type { StateBackend, StoredEntry } from '../../src/state/index.js'
import { describeContractUnderLoad } from './backend-contract-load.js'
import { bytes, text, withBackend, type MakeBackend } from './contract-helpers.js'
import { waitFor } from './wait-for.js'

async function only(backend: StateBackend, key: string): Promise<StoredEntry | undefined> {
  const found = await backend.get([key])
  assert.ok(found.length <= 1)
  return found[0]
}

async function write(backend: StateBackend, entries: Record<string, string | null>, ttlMs?: number): Promise<number> {
  const writes = Object.entries(entries).map(([key, value]) => ({ key, value: value === null ? null : bytes(value), ...(ttlMs ? { ttlMs } : {}) }))
  const result = await backend.commit([], writes)
  assert.ok(result.ok, 'a blind write cannot conflict')
  return result.version
}

/**
 * The contract every StateBackend must meet (see src/state/backend.ts), as one suite run against
 * memory, sqlite and redis.
 */
export function describeBackendContract(name: string, make: MakeBackend): void {
  describe(`${name} backend contract`, () => {
    test('get returns committed entries in the order asked, once each, and omits absent keys', () =>
      withBackend(make, async (backend) => {
        assert.deepEqual(await backend.get(['nothing']), [])
        assert.deepEqual(await backend.get([]), [])
        const version = await write(backend, { a: 'one', b: 'two' })
        assert.ok(version > 0)
        const found = await backend.get(['b', 'missing', 'a', 'b'])
        assert.deepEqual(found.map((e) => [e.key, text(e.value), e.version, e.expiresAt]), [['b', 'two', version, null], ['a', 'one', version, null]])
      }))

    test('versions come from one growing commit counter; a commit without writes changes nothing', () =>
      withBackend(make, async (backend) => {
        const v1 = await write(backend, { a: '1', b: '1' })
        const v2 = await write(backend, { b: '2' })
        assert.ok(v2 > v1)
        const [a, b] = await backend.get(['a', 'b'])
        assert.equal(a!.version, v1, 'an untouched key keeps its version')
        assert.equal(b!.version, v2)
        const check = await backend.commit([{ key: 'a', version: v1 }, { key: 'b', version: v2 }, { key: 'c', version: 0 }], [])
        assert.deepEqual(check, { ok: true, version: v2 })
        const v3 = await write(backend, { c: '3' })
        assert.ok(v3 > v2)
        assert.equal((await only(backend, 'b'))!.version, v2)
      }))

    test('a stale read conflicts and nothing of the commit is applied', () =>
      withBackend(make, async (backend) => {
        const v1 = await write(backend, { counter: '1' })
        await write(backend, { counter: '2' })
        const result = await backend.commit([{ key: 'counter', version: v1 }], [{ key: 'counter', value: bytes('from stale') }, { key: 'other', value: bytes('x') }])
        assert.deepEqual(result, { ok: false, conflicts: ['counter'] })
        assert.equal(text((await only(backend, 'counter'))!.value), '2')
        assert.equal(await only(backend, 'other'), undefined)
      }))

    test('partial overlap: only the stale reads are named, and no write lands, not even to fresh keys', () =>
      withBackend(make, async (backend) => {
        const v1 = await write(backend, { a: 'a1', b: 'b1', c: 'c1', d: 'd1' })
        const v2 = await write(backend, { b: 'b2', d: 'd2' })
        const reads = [{ key: 'a', version: v1 }, { key: 'b', version: v1 }, { key: 'c', version: v1 }, { key: 'd', version: v1 }, { key: 'b', version: v1 }]
        const result = await backend.commit(reads, [{ key: 'a', value: bytes('a3') }, { key: 'c', value: null }, { key: 'e', value: bytes('e3') }])
        assert.equal(result.ok, false)
        assert.deepEqual(!result.ok && [...result.conflicts].sort(), ['b', 'd'])
        const found = await backend.get(['a', 'b', 'c', 'd', 'e'])
        assert.deepEqual(found.map((e) => [e.key, text(e.value), e.version]), [['a', 'a1', v1], ['b', 'b2', v2], ['c', 'c1', v1], ['d', 'd2', v2]])
      }))

    test('read-your-absence: version 0 conflicts once someone created the key, and holds while it stays absent', () =>
      withBackend(make, async (backend) => {
        const created = await backend.commit([{ key: 'fresh', version: 0 }], [{ key: 'fresh', value: bytes('mine') }])
        assert.ok(created.ok)
        assert.equal((await only(backend, 'fresh'))!.version, created.version)
        await write(backend, { taken: 'theirs' })
        const result = await backend.commit([{ key: 'taken', version: 0 }], [{ key: 'taken', value: bytes('mine') }])
        assert.deepEqual(result, { ok: false, conflicts: ['taken'] })
        assert.equal(text((await only(backend, 'taken'))!.value), 'theirs')
        // Created and deleted again: absent as read, so the read still holds.
        await write(backend, { gone: 'x' })
        await write(backend, { gone: null })
        assert.equal((await backend.commit([{ key: 'gone', version: 0 }], [])).ok, true)
      }))

    test('deletes: a deleted key is absent (version 0), deleting an absent key is fine, the last write of a key wins', () =>
      withBackend(make, async (backend) => {
        const v1 = await write(backend, { doomed: 'x', kept: 'y' })
        await write(backend, { doomed: null, never: null })
        assert.deepEqual((await backend.get(['doomed', 'never', 'kept'])).map((e) => e.key), ['kept'])
        assert.deepEqual((await backend.list('')).map((e) => e.key), ['kept'])
        assert.deepEqual(await backend.commit([{ key: 'doomed', version: v1 }], []), { ok: false, conflicts: ['doomed'] })
        assert.equal((await backend.commit([{ key: 'doomed', version: 0 }], [])).ok, true)
        await backend.commit([], [{ key: 'k', value: bytes('set') }, { key: 'k', value: null }])
        assert.equal(await only(backend, 'k'), undefined)
        await backend.commit([], [{ key: 'k', value: null }, { key: 'k', value: bytes('set') }])
        assert.equal(text((await only(backend, 'k'))!.value), 'set')
      }))

    test('a key past its TTL is absent everywhere: get, list and read versions', () =>
      withBackend(make, async (backend) => {
        const before = Date.now()
        const version = await write(backend, { 'ttl:short': 'soon gone' }, 50)
        await write(backend, { 'ttl:long': 'stays' }, 60_000)
        await write(backend, { 'ttl:none': 'forever' })
        const entry = await only(backend, 'ttl:short')
        // Expiry may already have passed on a slow machine; if the entry is there it carries its expiry.
        if (entry) assert.ok(entry.expiresAt! >= before + 50 - 20 && entry.expiresAt! <= Date.now() + 50 + 20, `expiresAt ${entry.expiresAt} near now+50`)
        await waitFor(async () => (await backend.get(['ttl:short'])).length === 0, 'ttl:short to expire')
        assert.deepEqual((await backend.list('ttl:')).map((e) => e.key), ['ttl:long', 'ttl:none'])
        assert.deepEqual(await backend.commit([{ key: 'ttl:short', version }], []), { ok: false, conflicts: ['ttl:short'] })
        const again = await backend.commit([{ key: 'ttl:short', version: 0 }], [{ key: 'ttl:short', value: bytes('back') }])
        assert.equal(again.ok, true)
        const back = (await only(backend, 'ttl:short'))!
        assert.equal(text(back.value), 'back')
        assert.equal(back.expiresAt, null)
        assert.ok(back.version > version)
      }))

    test('rewriting a key without a TTL clears its expiry; rewriting with a TTL sets a new one', () =>
      withBackend(make, async (backend) => {
        await write(backend, { persisted: 'a', witness: 'w' }, 50)
        await write(backend, { persisted: 'b' })
        await waitFor(async () => (await backend.get(['witness'])).length === 0, 'the witness key to expire')
        const persisted = await only(backend, 'persisted')
        assert.equal(persisted && text(persisted.value), 'b')
        assert.equal(persisted!.expiresAt, null)
        await write(backend, { persisted: 'c' }, 50)
        await waitFor(async () => (await backend.get(['persisted'])).length === 0, 'persisted to expire under its new TTL')
      }))

    test('binary values round-trip byte for byte (random 64 KiB, empty, views into larger buffers)', () =>
      withBackend(make, async (backend) => {
        const big = new Uint8Array(randomBytes(64 * 1024))
        const backing = randomBytes(100)
        const view = new Uint8Array(backing.buffer, backing.byteOffset + 10, 20)
        await backend.commit([], [{ key: 'bin:big', value: big }, { key: 'bin:empty', value: new Uint8Array(0) }, { key: 'bin:view', value: view }])
        const expected = new Uint8Array(big)
        big.fill(0) // the store must not alias the caller's buffer
        const [gotBig, gotEmpty, gotView] = await backend.get(['bin:big', 'bin:empty', 'bin:view'])
        assert.equal(Buffer.compare(Buffer.from(gotBig!.value), Buffer.from(expected)), 0)
        assert.equal(gotEmpty!.value.byteLength, 0)
        assert.deepEqual(Buffer.from(gotView!.value), Buffer.from(backing.subarray(10, 30)))
        gotView!.value.fill(0) // nor hand out its own
        const listed = await backend.list('bin:')
        assert.deepEqual(listed.map((e) => [e.key, e.value.byteLength]), [['bin:big', 65536], ['bin:empty', 0], ['bin:view', 20]])
        assert.equal(Buffer.compare(Buffer.from(listed[0]!.value), Buffer.from(expected)), 0)
        assert.deepEqual(Buffer.from(listed[2]!.value), Buffer.from(backing.subarray(10, 30)))
      }))

    test('list: prefix, key order by code point, limit and after for paging', () =>
      withBackend(make, async (backend) => {
        // '\uFFFD' sorts below an emoji by code point (and UTF-8 bytes), above it by UTF-16 units.
        const keys = ['u:b', 'u:a', 'u:\u{1F600}', 'u:\uFFFD', 'u:é', 'u:a:1', 'v:a', 'u', 't:z']
        await write(backend, Object.fromEntries(keys.map((k) => [k, `value of ${k}`])))
        const order = ['u:a', 'u:a:1', 'u:b', 'u:é', 'u:\uFFFD', 'u:\u{1F600}']
        assert.deepEqual((await backend.list('u:')).map((e) => e.key), order)
        assert.equal(text((await backend.list('u:'))[0]!.value), 'value of u:a')
        assert.deepEqual((await backend.list('')).map((e) => e.key), ['t:z', 'u', ...order, 'v:a'])
        const pages: string[][] = []
        let after: string | undefined
        for (let i = 0; i < 10; i++) {
          const page = await backend.list('u:', { limit: 4, ...(after === undefined ? {} : { after }) })
          if (page.length === 0) break
          pages.push(page.map((e) => e.key))
          after = page.at(-1)!.key
        }
        assert.deepEqual(pages, [order.slice(0, 4), order.slice(4)])
        assert.deepEqual((await backend.list('u:', { after: 'a' })).map((e) => e.key), order, 'after below the prefix')
        assert.deepEqual(await backend.list('u:', { after: 'zzz' }), [])
        assert.deepEqual(await backend.list('u:', { limit: 0 }), [])
        assert.deepEqual(await backend.list('nope:'), [])
      }))

    test('bad input is rejected with CRASHLESS_ERR_STATE before anything is applied', () =>
      withBackend(make, async (backend) => {
        const bad = [
          () => backend.get(['']),
          () => backend.get(['\uD800']),
          () => backend.list('\uDC00'),
          () => backend.list('p', { limit: -1 }),
          () => backend.commit([{ key: 'a', version: -1 }], []),
          () => backend.commit([], [{ key: 'ok', value: bytes('x') }, { key: 'a', value: bytes('x'), ttlMs: 0 }]),
          () => backend.commit([], [{ key: 'a', value: 'not bytes' as unknown as Uint8Array }]),
        ]
        for (const call of bad) await assert.rejects(call, (err: Error & { code?: string }) => err.code === 'CRASHLESS_ERR_STATE')
        assert.deepEqual(await backend.get(['ok']), [])
      }))

    test('a closed backend rejects calls with CRASHLESS_ERR_STATE', async () => {
      const backend = await make()
      await backend.close()
      await backend.close()
      await assert.rejects(backend.get(['a']), { code: 'CRASHLESS_ERR_STATE' })
      await assert.rejects(backend.commit([], []), { code: 'CRASHLESS_ERR_STATE' })
    })

    describeContractUnderLoad(make)
  })
}

/**
 * The pieces under sessions and idempotency, one by one: cookie parsing and signatures (the
 * dispatcher's SessionCookies), the session and idempotency record formats, and a request's
 * SessionState over a real Transaction and backend (what it reads, writes and asks of the cookie).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { resolveConfig } from '../../src/config/index.js'
import { SessionCookies } from '../../src/dispatch/session-cookies.js'
import { answerStoreRead } from '../../src/dispatch/store-reads.js'
import { decodeSessionRecord, encodeSessionRecord } from '../../src/host/session-record.js'
import { SessionState } from '../../src/host/session-state.js'
import { StoreClient } from '../../src/host/store-client.js'
import { Transaction } from '../../src/host/transaction.js'
import type { StoreReadMessage } from '../../src/protocol.js'
import { cookieValues, decodeIdempotencyRecord, encodeIdempotencyRecord, MemoryBackend, newSessionId, sessionRecordKey, signSessionId, verifySessionCookie } from '../../src/state/index.js'

const SECRET = 's'.repeat(32)
const OLD = 'o'.repeat(32)

test('cookieValues finds every cookie of the name, only at the start of a pair', () => {
  assert.deepEqual(cookieValues('a=1; crashless.sid=x; b=2', 'crashless.sid'), ['x'])
  assert.deepEqual(cookieValues('crashless.sid=first;crashless.sid=second', 'crashless.sid'), ['first', 'second'])
  assert.deepEqual(cookieValues('xcrashless.sid=no; crashless.sid="quoted"', 'crashless.sid'), ['quoted'])
  assert.deepEqual(cookieValues('other=crashless.sid=nested', 'crashless.sid'), [])
  assert.deepEqual(cookieValues('crashless.sid=', 'crashless.sid'), [''])
})

test('a signed id verifies under its key or a rotated one, and nothing else does', () => {
  const id = newSessionId()
  assert.match(id, /^[A-Za-z0-9_-]{32}$/)
  const cookie = signSessionId(id, OLD)
  assert.equal(verifySessionCookie(cookie, [SECRET, OLD]), id)
  assert.equal(verifySessionCookie(cookie, [SECRET]), null)
  assert.equal(verifySessionCookie(cookie.slice(0, -1), [OLD]), null)
  assert.equal(verifySessionCookie(`${cookie}x`, [OLD]), null)
  assert.equal(verifySessionCookie(cookie.replace('.', '-'), [OLD]), null)
  assert.equal(verifySessionCookie(`${'!'.repeat(32)}${cookie.slice(32)}`, [OLD]), null)
})

test('SessionCookies: the first good cookie of any Cookie header; Set-Cookie appended to the app\'s', () => {
  const config = resolveConfig({ entry: 'a.ts', session: {} }, { baseDir: '/', source: 'test' }).session
  const cookies = new SessionCookies(config, [SECRET, OLD])
  const id = newSessionId()
  const good = `crashless.sid=${signSessionId(id, OLD)}`
  assert.equal(cookies.sessionOf(['Host', 'x', 'Cookie', 'a=1', 'COOKIE', `crashless.sid=bad; ${good}`]), id)
  assert.equal(cookies.sessionOf(['cookie', 'crashless.sid=bad']), null)
  assert.equal(cookies.sessionOf(['x-cookie', good]), null)

  const headers: Record<string, string | string[]> = { 'set-cookie': 'theme=dark' }
  cookies.addTo(headers, { id })
  assert.deepEqual(headers['set-cookie'], ['theme=dark', `crashless.sid=${signSessionId(id, SECRET)}; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax`])
  cookies.addTo(headers, { id: null })
  assert.equal((headers['set-cookie'] as string[])[2], 'crashless.sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax')
  // An instance can ask for nothing but a well-formed id to be signed.
  const none: Record<string, string | string[]> = {}
  cookies.addTo(none, { id: 'admin; Domain=evil.example' })
  assert.deepEqual(none, {})
})

test('session and idempotency records round-trip; damaged ones are refused', () => {
  const entries = new Map<string, Uint8Array>([
    ['user', new Uint8Array([0x6a, 0x22, 0x61, 0x22])],
    ['ключ 🚀', new Uint8Array([0x62, 0, 255])],
    ['empty', new Uint8Array(0)],
  ])
  assert.deepEqual(decodeSessionRecord(encodeSessionRecord(entries)), entries)
  assert.deepEqual(decodeSessionRecord(encodeSessionRecord(new Map())), new Map())
  assert.throws(() => decodeSessionRecord(encodeSessionRecord(entries).slice(0, -2)), { code: 'CRASHLESS_ERR_STATE' })
  assert.throws(() => decodeSessionRecord(new Uint8Array([9])), { code: 'CRASHLESS_ERR_STATE' })

  for (const body of [null, new Uint8Array(0), new Uint8Array([0, 1, 2, 255])]) {
    const record = { fingerprint: 'f', status: 201, statusMessage: undefined, headers: { 'set-cookie': ['a=1', 'b=2'], 'x-y': 'z' }, body, committedAt: 1_700_000_000_000 }
    assert.deepEqual(decodeIdempotencyRecord(encodeIdempotencyRecord(record)), record)
  }
  assert.throws(() => decodeIdempotencyRecord(new Uint8Array([0, 0, 0, 9, 1])), { code: 'CRASHLESS_ERR_STATE' })
})

describeSessionState()

function describeSessionState(): void {
  const backend = new MemoryBackend()
  const channel = new MessageChannel()
  let client: StoreClient
  let reads = 0
  let nextId = 1
  const TTL = 60_000

  before(() => {
    channel.port2.on('message', (msg: StoreReadMessage) => {
      reads++
      void answerStoreRead(backend, msg).then((answer) => channel.port2.postMessage(answer))
    })
    client = new StoreClient(channel.port1 as unknown as MessagePort)
    channel.port1.on('message', (msg) => client.receive(msg))
  })
  after(async () => {
    channel.port1.close()
    await backend.close()
  })

  const open = (id: string | null) => {
    const tx = new Transaction(nextId++, client)
    return { tx, session: new SessionState(id, TTL, () => tx) }
  }
  const bytes = (s: string) => new TextEncoder().encode(s)

  test('SessionState: no session reads nothing; the first write makes one; destroying it cancels the write', async () => {
    const { tx, session } = open(null)
    const before = reads
    assert.equal(await session.get('user'), undefined)
    assert.equal(reads, before, 'a read without a session must not reach the store')
    assert.equal(session.cookieChange(), undefined)
    await session.set('user', bytes('ada'))
    const id = session.id!
    assert.deepEqual(session.cookieChange(), { id })
    await session.destroy()
    assert.equal(session.id, null)
    assert.equal(session.cookieChange(), undefined, 'a session that never reached the client needs no cookie change')
    const payload = tx.seal()!
    assert.deepEqual(payload.writes.map((w) => [w.key, w.value]), [[sessionRecordKey(id), null]])
  })

  test('SessionState: an existing session is read once; writes rewrite its record with the TTL; destroy clears the cookie', async () => {
    const id = newSessionId()
    await backend.commit([], [{ key: sessionRecordKey(id), value: encodeSessionRecord(new Map([['user', bytes('ada')]])), ttlMs: TTL }])
    const { tx, session } = open(id)
    const before = reads
    assert.deepEqual(await session.get('user'), bytes('ada'))
    assert.equal(await session.get('cart'), undefined)
    assert.equal(reads, before + 1)
    assert.equal(session.cookieChange(), undefined, 'a fresh session read in the first half of its life is not rewritten')
    await session.set('cart', bytes('[1]'))
    assert.deepEqual(session.cookieChange(), { id })
    const [write] = tx.seal()!.writes
    assert.equal(write!.ttlMs, TTL)
    assert.deepEqual([...decodeSessionRecord(write!.value!).keys()], ['user', 'cart'])

    const second = open(id)
    await second.session.destroy()
    assert.deepEqual(second.session.cookieChange(), { id: null })
    await second.session.set('user', bytes('bob'))
    assert.notEqual(second.session.id, id)
    assert.deepEqual(second.session.cookieChange(), { id: second.session.id })
  })

  test('SessionState: a read in the second half of the record\'s life rewrites it (sliding expiry)', async () => {
    const id = newSessionId()
    await backend.commit([], [{ key: sessionRecordKey(id), value: encodeSessionRecord(new Map([['user', bytes('ada')]])), ttlMs: TTL / 2 - 1_000 }])
    const { tx, session } = open(id)
    assert.deepEqual(await session.get('user'), bytes('ada'))
    assert.deepEqual(session.cookieChange(), { id })
    const payload = tx.seal()!
    assert.deepEqual(payload.writes.map((w) => [w.key, w.ttlMs]), [[sessionRecordKey(id), TTL]])
    // A read after the response went refreshes nothing (and does not throw).
    const late = open(id)
    late.tx.seal()
    assert.deepEqual(await late.session.get('user'), bytes('ada'))
    await assert.rejects(late.session.set('x', bytes('1')), { code: 'CRASHLESS_ERR_STATE', message: /already sent/ })
  })
}

import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { StateBackend } from '../../src/state/index.js'
import { bytes, text, withBackend, type MakeBackend } from './contract-helpers.js'

/** Reads `key` as a decimal counter (0 when absent), with the version read. */
async function readCounter(backend: StateBackend, key: string): Promise<{ value: number; version: number }> {
  const [entry] = await backend.get([key])
  return entry ? { value: Number(text(entry.value)), version: entry.version } : { value: 0, version: 0 }
}

/** Read, increment, commit; re-run on conflict like a request would, a bounded number of times. */
async function increment(backend: StateBackend, key: string, maxAttempts: number): Promise<number> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const { value, version } = await readCounter(backend, key)
    const result = await backend.commit([{ key, version }], [{ key, value: bytes(String(value + 1)) }])
    if (result.ok) return attempt
    assert.deepEqual(result.conflicts, [key])
  }
  throw new Error(`no commit of ${key} won within ${maxAttempts} attempts`)
}

/** The contract's batch and concurrency half: big commits, racing commits, no lost update. */
export function describeContractUnderLoad(make: MakeBackend): void {
  test('large batches: 2000 keys in one commit, read back, listed in pages, validated in one commit', () =>
    withBackend(make, async (backend) => {
      const count = 2000
      const keys = Array.from({ length: count }, (_, i) => `batch:${String(i).padStart(5, '0')}`)
      const version = await backend.commit([], keys.map((key) => ({ key, value: bytes(`value ${key} `.repeat(8)) })))
      assert.ok(version.ok)
      const found = await backend.get(keys)
      assert.equal(found.length, count)
      assert.ok(found.every((e, i) => e.key === keys[i] && e.version === version.version && text(e.value) === `value ${keys[i]} `.repeat(8)))
      const listed: string[] = []
      let after: string | undefined
      for (let page = 0; page < 20 && listed.length < count + 1; page++) {
        const entries = await backend.list('batch:', { limit: 250, ...(after === undefined ? {} : { after }) })
        if (entries.length === 0) break
        listed.push(...entries.map((e) => e.key))
        after = entries.at(-1)!.key
      }
      assert.deepEqual(listed, keys)
      await backend.commit([], [{ key: keys[1234]!, value: bytes('changed') }])
      const result = await backend.commit(keys.map((key) => ({ key, version: version.version })), keys.map((key) => ({ key, value: null })))
      assert.deepEqual(result, { ok: false, conflicts: [keys[1234]] })
      assert.equal((await backend.get(keys)).length, count, 'the conflicting batch deleted nothing')
    }))

  test('racing commits on one key: exactly one winner per round', () =>
    withBackend(make, async (backend) => {
      const rounds = 20
      const callers = 16
      for (let round = 0; round < rounds; round++) {
        const seen = await Promise.all(Array.from({ length: callers }, () => readCounter(backend, 'race')))
        assert.ok(seen.every((s) => s.value === round && s.version === seen[0]!.version))
        const results = await Promise.all(seen.map((s, i) => backend.commit([{ key: 'race', version: s.version }], [{ key: 'race', value: bytes(String(s.value + 1)) }, { key: `race:winner:${round}`, value: bytes(String(i)) }])))
        const winners = results.filter((r) => r.ok)
        assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`)
        assert.ok(results.every((r) => r.ok || (r.conflicts.length === 1 && r.conflicts[0] === 'race')))
      }
      assert.equal((await readCounter(backend, 'race')).value, rounds)
      assert.equal((await backend.list('race:winner:')).length, rounds, 'losers wrote nothing')
    }))

  test('no lost update: concurrent read-increment-commit with retry counts every increment', async (t) =>
    withBackend(make, async (backend) => {
      const workers = 8
      const perWorker = 25
      const started = Date.now()
      const attempts = await Promise.all(
        Array.from({ length: workers }, async () => {
          let total = 0
          for (let i = 0; i < perWorker; i++) total += await increment(backend, 'counter', 1000)
          return total
        }),
      )
      assert.equal((await readCounter(backend, 'counter')).value, workers * perWorker)
      const tries = attempts.reduce((a, b) => a + b, 0)
      t.diagnostic(`${backend.kind}: ${workers * perWorker} increments by ${workers} racing callers took ${tries} attempts in ${Date.now() - started} ms`)
    }))

  test('throughput (diagnostic only, not asserted)', async (t) =>
    withBackend(make, async (backend) => {
      const sequential = 500
      let started = performance.now()
      for (let i = 0; i < sequential; i++) assert.ok((await backend.commit([], [{ key: `seq:${i}`, value: bytes('x') }])).ok)
      const seqRate = sequential / ((performance.now() - started) / 1000)
      const concurrent = 2000
      started = performance.now()
      const results = await Promise.all(Array.from({ length: concurrent }, (_, i) => backend.commit([{ key: `par:${i}`, version: 0 }], [{ key: `par:${i}`, value: bytes('x') }])))
      const parRate = concurrent / ((performance.now() - started) / 1000)
      assert.ok(results.every((r) => r.ok))
      t.diagnostic(`${backend.kind}: ${Math.round(seqRate)} commits/s one at a time, ${Math.round(parRate)} commits/s with ${concurrent} in flight`)
    }))
}

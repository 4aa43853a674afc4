/**
 * The instances' read cache (issue 14.2) through real requests on 2 instances (sqlite): a hot
 * key is read from the dispatcher once per instance, not once per request; a write is seen by
 * every later request on either instance (invalidations arrive before the writer's response);
 * with `state.readCacheMb: 0` every read is a round trip again.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { cleanup, getKey, setKey, startApp } from './harness.js'

let cached: CrashlessProcess & { adminUrl: string }
let uncached: CrashlessProcess & { adminUrl: string }

async function withAdmin(server: CrashlessProcess): Promise<CrashlessProcess & { adminUrl: string }> {
  const listening = await server.waitForLog((l) => l.event === 'admin-listening', 5_000)
  return Object.assign(server, { adminUrl: `http://127.0.0.1:${listening.port as number}` })
}

before(async () => {
  const [a, b] = await Promise.all([startApp('store-fetch.mjs'), startApp('store-fetch.mjs', { state: { readCacheMb: 0 } })])
  ;[cached, uncached] = await Promise.all([withAdmin(a), withAdmin(b)])
})
after(cleanup)

/**
 * Store reads the dispatcher answered so far (each is a round trip from an instance), from the
 * text of /metrics (the parser the admin tests use drops a labelled histogram's count).
 */
async function dispatcherReads(server: CrashlessProcess & { adminUrl: string }): Promise<number> {
  const text = await (await fetch(`${server.adminUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text()
  const found = /^crashless_store_operation_duration_seconds_count\{operation="read"\} (\d+)$/m.exec(text)
  assert.ok(found, 'the read count is exported')
  return Number(found[1])
}

/** Reads `key` with `n` requests, 20 at a time, so both instances serve some; returns the values. */
async function readMany(base: string, key: string, n: number): Promise<unknown[]> {
  const values: unknown[] = []
  for (let i = 0; i < n; i += 20) values.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => getKey(base, key)))))
  return values
}

test('a hot key costs a round trip per instance, not per request', async () => {
  await setKey(cached.url, 'hot', { n: 1 })
  await setKey(uncached.url, 'hot', { n: 1 })
  const before = [await dispatcherReads(cached), await dispatcherReads(uncached)]
  const values = [await readMany(cached.url, 'hot', 200), await readMany(uncached.url, 'hot', 200)]
  for (const v of values) assert.deepEqual(new Set(v.map((x) => JSON.stringify(x))), new Set(['{"n":1}']))
  const reads = [(await dispatcherReads(cached)) - before[0]!, (await dispatcherReads(uncached)) - before[1]!]
  // With the cache: the misses of the first 20 (concurrent, before any answer came back) at most,
  // then none; never one per request.
  assert.ok(reads[0]! <= 20, `with the cache, ${reads[0]} round trips for 200 reads`)
  assert.ok(reads[1]! >= 200, `without it, ${reads[1]} round trips for 200 reads`)
})

test('once a writer has its response, every later read on either instance sees the write', async () => {
  for (let round = 1; round <= 30; round++) {
    // Every instance has the key cached (old value) before the write.
    await readMany(cached.url, 'seen', 10)
    await setKey(cached.url, 'seen', round)
    const after = await readMany(cached.url, 'seen', 20)
    assert.deepEqual(after.filter((v) => v !== round), [], `round ${round}: stale reads after the write was acknowledged`)
  }
})

test('concurrent writers and readers: no client ever reads older than what it last wrote or read', async () => {
  const errors: string[] = []
  await Promise.all(
    Array.from({ length: 10 }, async (_, c) => {
      let last = 0
      for (let i = 1; i <= 20; i++) {
        if (c % 2 === 0) {
          // Writers: each their own key, so no conflicts, only invalidations.
          await setKey(cached.url, `mono:${c}`, i)
          last = i
        }
        const read = (await getKey(cached.url, `mono:${c - (c % 2)}`)) as number | undefined
        if ((read ?? 0) < last) errors.push(`client ${c} read ${read} after ${last}`)
        last = Math.max(last, read ?? 0)
      }
    }),
  )
  assert.deepEqual(errors, [])
})

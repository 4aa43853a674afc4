import assert from 'node:assert/strict'
import { test } from 'node:test'
import { firstAfter } from '../../src/immunity/first-after.js'
import { ImmunityTable } from '../../src/immunity/index.js'

test('firstAfter: the smallest keys after the cursor, in order', () => {
  const rows: [string[], string | null, number, string[]][] = [
    [['d', 'a', 'c', 'b'], null, 2, ['a', 'b']],
    [['d', 'a', 'c', 'b'], 'a', 2, ['b', 'c']],
    [['d', 'a', 'c', 'b'], 'c', 5, ['d']],
    [['d', 'a', 'c', 'b'], 'd', 5, []],
    [['b', 'a'], null, 0, []],
    [[], null, 3, []],
    // Between keys: a cursor need not be a key any more (released, expired).
    [['GET /a #-', 'GET /c #-', 'GET /b #-'], 'GET /ab', 10, ['GET /b #-', 'GET /c #-']],
  ]
  for (const [keys, after, limit, expected] of rows) assert.deepEqual(firstAfter(keys, after, limit), expected, JSON.stringify([keys, after, limit]))
})

test('firstAfter agrees with sorting on 5,000 shuffled keys, page by page', () => {
  const keys = Array.from({ length: 5_000 }, (_, i) => `GET /item?id=${(i * 7919) % 5_000} #-`)
  const sorted = [...keys].sort()
  const pages: string[] = []
  let after: string | null = null
  for (;;) {
    const page = firstAfter(keys, after, 333)
    if (page.length === 0) break
    pages.push(...page)
    after = page[page.length - 1]!
  }
  assert.deepEqual(pages, sorted)
})

test('ImmunityTable.page walks every live entry once, and summary counts them without copying', () => {
  let now = 1_000_000
  const table = new ImmunityTable({ threshold: 2, quarantineMs: 60_000 }, () => now)
  for (let i = 0; i < 25; i++) table.recordFailure(`GET /s${String(i).padStart(2, '0')} #-`, 'crash')
  table.recordFailure('GET /s03 #-', 'crash')
  const seen: string[] = []
  let after: string | null = null
  for (let pages = 0; ; pages++) {
    const { entries, next } = table.page(after, 10)
    seen.push(...entries.map((e) => e.signature))
    assert.ok(pages < 3)
    if (next === null) break
    assert.equal(next, entries[entries.length - 1]!.signature)
    after = next
  }
  assert.equal(seen.length, 25)
  assert.deepEqual(seen, [...seen].sort())
  assert.deepEqual(table.summary(), { entries: 25, quarantined: 1, cured: 0 })
  table.release('GET /s00 #-')
  assert.equal(table.page(null, 10).entries[0]!.signature, 'GET /s01 #-')
  now += 61_000
  assert.deepEqual(table.page(null, 10), { entries: [], next: null }, 'expired entries are not listed')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { IdMap } from '../../src/id-map.js'

/** A small deterministic generator (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test('gets, replaces and deletes like a Map', () => {
  const map = new IdMap<string>()
  assert.equal(map.get(1), undefined)
  map.set(1, 'a').set(2, 'b')
  map.set(1, 'c')
  assert.equal(map.size, 2)
  assert.equal(map.get(1), 'c')
  assert.equal(map.has(2), true)
  assert.equal(map.delete(2), true)
  assert.equal(map.delete(2), false)
  assert.equal(map.has(2), false)
  assert.equal(map.size, 1)
})

test('keeps every entry reachable across collisions, wrap-around and growth', () => {
  const map = new IdMap<number>()
  // 64 slots at first: these ids all want slot 63 or 0, so their runs wrap around the end.
  const ids = [63, 127, 191, 0, 64, 128, 255]
  for (const id of ids) map.set(id, id * 10)
  for (const id of ids) assert.equal(map.get(id), id * 10, `id ${id}`)
  // Deleting from the middle of a wrapped run must not cut off the entries after it.
  map.delete(127)
  map.delete(0)
  for (const id of [63, 191, 64, 128, 255]) assert.equal(map.get(id), id * 10, `id ${id} after deletes`)
  // Growth re-places everything.
  for (let id = 1000; id < 1100; id++) map.set(id, id)
  assert.equal(map.size, 105)
  for (const id of [63, 191, 64, 128, 255, 1000, 1099]) assert.equal(map.has(id), true, `id ${id} after growth`)
})

test('matches a Map over a long random mix of operations', () => {
  for (const seed of [1, 2, 3, 42, 2026]) {
    const next = random(seed)
    const map = new IdMap<number>()
    const model = new Map<number, number>()
    let nextId = 1
    for (let step = 0; step < 20_000; step++) {
      const r = next()
      if (r < 0.45) {
        const id = nextId++
        map.set(id, step)
        model.set(id, step)
      } else if (r < 0.9 && model.size > 0) {
        // Requests finish out of order: delete a random live one.
        const live = [...model.keys()]
        const id = live[Math.floor(next() * live.length)]!
        assert.equal(map.delete(id), model.delete(id), `seed ${seed} step ${step}: delete ${id}`)
      } else {
        const id = Math.floor(next() * nextId * 1.2)
        assert.equal(map.get(id), model.get(id), `seed ${seed} step ${step}: get ${id}`)
      }
      assert.equal(map.size, model.size, `seed ${seed} step ${step}: size`)
    }
    assert.deepEqual([...map.values()], [...model.values()], `seed ${seed}: values in id order`)
  }
})

test('values() is a copy: deleting while iterating is safe', () => {
  const map = new IdMap<number>()
  for (let id = 1; id <= 10; id++) map.set(id, id)
  const seen: number[] = []
  for (const value of map.values()) {
    seen.push(value)
    map.delete(value + 1)
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  assert.equal(map.size, 1)
})

test('ids() lists exactly the ids present, also after deletions that shift entries', () => {
  const map = new IdMap<number>()
  for (let id = 1; id <= 200; id++) map.set(id * 64, id)
  for (let id = 1; id <= 200; id += 3) map.delete(id * 64)
  const expected = Array.from({ length: 200 }, (_, i) => (i + 1) * 64).filter((_, i) => i % 3 !== 0)
  assert.deepEqual(map.ids().sort((a, b) => a - b), expected)
})

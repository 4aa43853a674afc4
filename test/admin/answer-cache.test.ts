/** The admin endpoint's short-lived answer cache: polled answers are built once per TTL, shared while building, and a clear or a failure forgets them. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AnswerCache } from '../../src/admin/answer-cache.js'

test('an answer is built once per TTL, shared by requests meanwhile, and built again after clear()', async () => {
  const cache = new AnswerCache(60_000)
  let builds = 0
  const build = (): string => `answer ${++builds}`
  const [a, b] = await Promise.all([cache.get('/metrics', build), cache.get('/metrics', build)])
  assert.deepEqual([a, b, builds], ['answer 1', 'answer 1', 1])
  assert.equal(await cache.get('/immunity?100&', build), 'answer 2', 'another key is another answer')
  assert.equal(await cache.get('/metrics', build), 'answer 1')
  cache.clear()
  assert.equal(await cache.get('/metrics', build), 'answer 3')
})

test('an expired answer is built again; a failed build is not kept', async () => {
  const cache = new AnswerCache(0)
  let builds = 0
  assert.equal(await cache.get('k', () => `v${++builds}`), 'v1')
  assert.equal(await cache.get('k', () => `v${++builds}`), 'v2')
  const kept = new AnswerCache(60_000)
  await assert.rejects(kept.get('k', () => Promise.reject(new Error('no'))))
  assert.equal(await kept.get('k', () => 'fine'), 'fine')
})

test('at most `max` keys are kept, the oldest dropped first', async () => {
  const cache = new AnswerCache(60_000, 2)
  let builds = 0
  for (const key of ['a', 'b', 'c']) await cache.get(key, () => `${key}${++builds}`)
  assert.equal(await cache.get('c', () => 'rebuilt'), 'c3')
  assert.equal(await cache.get('a', () => 'rebuilt'), 'rebuilt')
})

/** Suspects that outlive a runtime's death: counts, clearing, the verdict at two deaths. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SuspectBook } from '../../src/keeper/index.js'

test('a signature in flight at two deaths is poison; the others are suspects', () => {
  const book = new SuspectBook(2)
  assert.deepEqual(book.died(['GET /kill', 'GET /']), [])
  assert.deepEqual(book.list(), [
    { record: 'GET /kill', deaths: 1 },
    { record: 'GET /', deaths: 1 },
  ])
  assert.deepEqual(book.died(['GET /kill', 'GET /']), [
    { record: 'GET /kill', deaths: 2 },
    { record: 'GET /', deaths: 2 },
  ])
  assert.deepEqual(book.list(), [], 'a verdict takes the signature out of the book')
})

test('a suspect that completed a request in between starts again from zero', () => {
  const book = new SuspectBook(2)
  book.died(['GET /kill', 'GET /'])
  book.clear('GET /')
  assert.deepEqual(book.died(['GET /kill', 'GET /']), [{ record: 'GET /kill', deaths: 2 }])
  assert.deepEqual(book.list(), [{ record: 'GET /', deaths: 1 }])
})

test('copies of one signature in flight at one death count once', () => {
  const book = new SuspectBook(2)
  assert.deepEqual(book.died(['GET /kill', 'GET /kill', 'GET /kill']), [])
  assert.deepEqual(book.list(), [{ record: 'GET /kill', deaths: 1 }])
})

test('the book stays bounded under a flood of distinct signatures, oldest out first', () => {
  const book = new SuspectBook(2)
  book.died(Array.from({ length: 10_005 }, (_, i) => `GET /${i}`))
  const listed = book.list()
  assert.equal(listed.length, 10_000)
  assert.equal(listed[0]!.record, 'GET /5')
})

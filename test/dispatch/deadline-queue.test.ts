import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { DeadlineQueue } from '../../src/dispatch/deadline-queue.js'

// The queue's timer is unref'd (requests keep a real process alive): hold the loop open here.
let keepAlive: NodeJS.Timeout
before(() => {
  keepAlive = setInterval(() => {}, 1000)
})
after(() => clearInterval(keepAlive))

/** A queue over a table of deadlines, as the dispatcher keeps it (0: answered or moved). */
function setup(ms: number) {
  const due = new Map<number, number>()
  const expired: number[] = []
  let onExpire: (() => void) | null = null
  const queue = new DeadlineQueue(
    ms,
    (id) => due.get(id) ?? 0,
    (id) => {
      due.delete(id)
      expired.push(id)
      onExpire?.()
    },
  )
  const add = (id: number) => due.set(id, queue.add(id))
  /** Resolves once `n` requests in all have expired. */
  const expiredCount = (n: number) =>
    new Promise<void>((resolve) => {
      if (expired.length >= n) return resolve()
      onExpire = () => {
        if (expired.length >= n) resolve()
      }
    })
  return { queue, due, expired, add, expiredCount }
}

test('requests expire in the order they were added, not before their deadline', async () => {
  const { add, expired, expiredCount } = setup(30)
  const start = performance.now()
  for (let id = 1; id <= 5; id++) add(id)
  await expiredCount(5)
  assert.deepEqual(expired, [1, 2, 3, 4, 5])
  // setTimeout rounds to whole milliseconds: allow the queue's 1 ms of slack.
  assert.ok(performance.now() - start >= 29, 'expired before its deadline')
})

test('answered requests never expire, and leave the queue once they reach its head', async () => {
  const { queue, add, due, expired, expiredCount } = setup(20)
  for (let id = 1; id <= 4; id++) add(id)
  due.delete(1)
  due.delete(3)
  queue.trim()
  assert.equal(queue.size, 3, 'only the head is trimmed; 3 waits behind 2')
  await expiredCount(2)
  assert.deepEqual(expired, [2, 4])
  assert.equal(queue.size, 0)
})

test('a request given a deadline of its own is left alone', async () => {
  const { add, due, expired, expiredCount } = setup(20)
  add(1)
  add(2)
  due.set(1, 0) // the dispatcher set its own timer for it
  await expiredCount(1)
  assert.deepEqual(expired, [2])
})

test('requests added while the timer waits for an older one are still expired', async () => {
  const { add, due, expired, expiredCount } = setup(25)
  add(1)
  due.delete(1) // answered: the armed timer now serves whatever comes next
  await new Promise<void>((resolve) => setImmediate(resolve))
  add(2)
  await expiredCount(1)
  assert.deepEqual(expired, [2])
})

test('grows past its initial size and keeps the order across the wrap', async () => {
  const { queue, add, due, expired, expiredCount } = setup(40)
  // Move the head first so the ring wraps when it grows.
  for (let id = 1; id <= 200; id++) add(id)
  for (let id = 1; id <= 200; id++) due.delete(id)
  queue.trim()
  assert.equal(queue.size, 0)
  for (let id = 201; id <= 1200; id++) add(id)
  assert.equal(queue.size, 1000)
  await expiredCount(1000)
  assert.deepEqual(expired, Array.from({ length: 1000 }, (_, i) => 201 + i))
})

// The accounting behind limits.bufferedBodyMb (src/front/body-budget.ts), without processes:
// who gets room, who waits, in which order, and that every byte comes back exactly once.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BodyBudget } from '../../src/front/index.js'

test('bytes that fit are taken at once; the rest waits and is granted when room comes back', () => {
  const budget = new BodyBudget(100)
  const a = budget.lease()
  assert.equal(a.grow(60, () => assert.fail('granted at once, not later')), true)
  const b = budget.lease()
  let granted = 0
  assert.equal(b.grow(50, () => granted++), false)
  assert.deepEqual([budget.usedBytes, budget.waiting, b.held], [60, 1, 0])
  a.release()
  assert.deepEqual([granted, budget.usedBytes, budget.waiting, b.held], [1, 50, 0, 50])
  b.release()
  assert.equal(budget.usedBytes, 0)
})

test('waiters are served first-fit in arrival order: a small body is not held behind a large one', () => {
  const budget = new BodyBudget(100)
  const holder = budget.lease()
  holder.grow(90, () => {})
  const order: string[] = []
  const large = budget.lease()
  large.grow(80, () => order.push('large'))
  const small = budget.lease()
  // 10 bytes are free, but someone is waiting: first-fit still lets the small one in at once.
  assert.equal(small.grow(10, () => order.push('small')), true)
  const medium = budget.lease()
  medium.grow(20, () => order.push('medium'))
  small.release()
  assert.deepEqual(order, [], 'neither the large nor the medium fits in 10 bytes')
  holder.release()
  // 100 free: the large one (first in line) fits, then the medium one does too.
  assert.deepEqual(order, ['large', 'medium'])
  assert.equal(budget.usedBytes, 100)
})

test('release is idempotent, drops a pending wait, and a released lease is never granted', () => {
  const budget = new BodyBudget(10)
  const holder = budget.lease()
  holder.grow(10, () => {})
  const gone = budget.lease()
  gone.grow(5, () => assert.fail('a released lease was granted'))
  gone.release()
  assert.equal(budget.waiting, 0)
  holder.release()
  holder.release()
  assert.equal(budget.usedBytes, 0)
  assert.equal(gone.grow(1, () => {}), false, 'a released lease takes nothing more')
})

test('a grant that releases another granted lease in the same round leaves the books straight', () => {
  const budget = new BodyBudget(10)
  const holder = budget.lease()
  holder.grow(10, () => {})
  const second = budget.lease()
  const first = budget.lease()
  first.grow(5, () => second.release())
  second.grow(5, () => assert.fail('second was released by first before its turn'))
  holder.release()
  assert.deepEqual([budget.usedBytes, budget.waiting, first.held], [5, 0, 5])
})

test('onFull is called once each time requests start waiting, not for every waiter', () => {
  const calls: number[] = []
  const budget = new BodyBudget(10, (used) => calls.push(used))
  const holder = budget.lease()
  holder.grow(8, () => {})
  const waiters = [budget.lease(), budget.lease()]
  for (const waiter of waiters) waiter.grow(5, () => {})
  assert.deepEqual(calls, [8])
  holder.release()
  for (const waiter of waiters) waiter.release()
  holder.release()
  const again = budget.lease()
  again.grow(10, () => {})
  budget.lease().grow(1, () => {})
  assert.deepEqual(calls, [8, 10])
})

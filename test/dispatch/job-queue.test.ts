import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Job } from '../../src/dispatch/job.js'
import { JobQueue } from '../../src/dispatch/job-queue.js'

const job = (id: number) => ({ id }) as unknown as Job

test('is FIFO and refuses past its capacity', () => {
  const queue = new JobQueue(2)
  assert.equal(queue.push(job(1)), true)
  assert.equal(queue.push(job(2)), true)
  assert.equal(queue.push(job(3)), false)
  assert.equal(queue.size, 2)
  assert.equal(queue.shift()?.id, 1)
  assert.equal(queue.shift()?.id, 2)
  assert.equal(queue.shift(), undefined)
})

test('re-served jobs go first, even when full', () => {
  const queue = new JobQueue(1)
  queue.push(job(1))
  queue.pushFront(job(9))
  assert.equal(queue.size, 2)
  assert.equal(queue.shift()?.id, 9)
  assert.equal(queue.shift()?.id, 1)
})

test('stays correct across compaction of a long run', () => {
  const queue = new JobQueue(10)
  let next = 0
  let expected = 0
  for (let round = 0; round < 5000; round++) {
    queue.push(job(next++))
    if (round % 3 === 0) queue.push(job(next++))
    while (queue.size > 2) assert.equal(queue.shift()?.id, expected++)
  }
  while (queue.size > 0) assert.equal(queue.shift()?.id, expected++)
  assert.equal(expected, next)
})

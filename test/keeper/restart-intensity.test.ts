/** OTP's restart intensity as the keeper applies it: rows of restart times, a moment, a policy. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forgetOldRestarts, isIntensityExceeded } from '../../src/keeper/index.js'

const policy = { intensity: 2, periodMs: 1_000 }

const rows: { times: number[]; now: number; exceeded: boolean; why: string }[] = [
  { times: [], now: 0, exceeded: false, why: 'no restart' },
  { times: [0, 10], now: 20, exceeded: false, why: 'exactly intensity restarts are allowed' },
  { times: [0, 10, 20], now: 20, exceeded: true, why: 'one more than intensity within the period' },
  { times: [0, 10, 20], now: 1_005, exceeded: false, why: 'the first fell out of the period' },
  { times: [0, 10, 20], now: 1_000, exceeded: false, why: 'a restart exactly periodMs ago no longer counts' },
  { times: [20, 0, 10], now: 30, exceeded: true, why: 'order does not matter' },
]

for (const row of rows) {
  test(`isIntensityExceeded: ${row.why}`, () => {
    assert.equal(isIntensityExceeded(row.times, row.now, policy), row.exceeded)
  })
}

test('forgetOldRestarts keeps only the times that can still count', () => {
  assert.deepEqual(forgetOldRestarts([0, 500, 1_200], 1_600, policy), [1_200])
  assert.deepEqual(forgetOldRestarts([], 10, policy), [])
})

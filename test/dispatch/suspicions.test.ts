import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Job } from '../../src/dispatch/job.js'
import { Suspicions } from '../../src/dispatch/suspicions.js'

const job = (done = false): Job => ({ done }) as Job

test('open, then close returns what it held', () => {
  const suspicions = new Suspicions(1_000, () => 0)
  const suspicion = suspicions.open('GET /spin #-', true)
  assert.equal(suspicions.open('GET /spin #-', false), suspicion, 'opening again keeps the same one')
  assert.equal(suspicion.probing, true, 'and never unmarks its probe')
  const held = job()
  suspicion.held.push(held)
  assert.deepEqual(suspicions.close('GET /spin #-'), { held: [held], probe: null })
  assert.equal(suspicions.get('GET /spin #-'), undefined)
  assert.deepEqual(suspicions.close('GET /none #-'), { held: [], probe: null })
})

test('a suspicion with no probe and nothing held is forgotten after idleMs; one with a probe is not', () => {
  let now = 0
  const suspicions = new Suspicions(1_000, () => now)
  suspicions.open('GET /a #-', false)
  suspicions.open('GET /b #-', true)
  suspicions.open('GET /c #-', false).held.push(job())
  now = 1_001
  assert.equal(suspicions.get('GET /a #-'), undefined)
  assert.ok(suspicions.get('GET /b #-'))
  assert.ok(suspicions.get('GET /c #-'))
})

test('past 10,000 suspicions the oldest idle ones go, never one with a probe or a waiting request', () => {
  const suspicions = new Suspicions(60_000, () => 0)
  suspicions.open('probing', true)
  suspicions.open('waiting', false).held.push(job())
  for (let i = 0; i < 10_000; i++) suspicions.open(`idle ${i}`, false)
  assert.equal(suspicions.size, 10_000)
  assert.ok(suspicions.get('probing'))
  assert.ok(suspicions.get('waiting'))
  assert.equal(suspicions.get('idle 0'), undefined)
  assert.equal(suspicions.get('idle 1'), undefined)
  assert.ok(suspicions.get('idle 9999'))
})

/**
 * A recovery run that needs a sacrificial instance while the pool's next spare is still starting
 * takes that spare-to-be instead of starting an instance of its own (bench:poison's repeated loop:
 * a stall promoted the ready spare, the suspect's next copy came ~200 ms later, and a second start
 * beside the spare-to-be made both slower). Real worker threads, no dispatcher.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import pino from 'pino'
import { resolveConfig } from '../../src/config/index.js'
import { Pool, shapeKey, type SacrificialNeed } from '../../src/supervise/index.js'
import { fixture } from '../helpers/crashless-process.js'

const config = resolveConfig({ entry: fixture('hello-listen.mjs'), instances: 1, spares: 1, admin: { enabled: false } }, { baseDir: '/', source: 'test' })
let capacity: () => void = () => {}
const pool = new Pool(config, pino({ level: 'silent' }), {
  onMessage() {},
  onLost() {},
  onCapacity: () => capacity(),
  onStalled() {},
  onStalledApart() {},
  stillLimitMs: () => 50,
  leaseMs: () => config.timeouts.leaseMs,
  onStretch() {},
  onTainted() {},
  onRetired() {},
  onStartFailures() {},
})
after(() => pool.stop())

const shape = { heapMb: config.limits.heapMb, stackMb: config.limits.stackMb, leaseMs: config.timeouts.leaseMs }

/** Picks a sacrificial instance for `need`, waiting for the capacity the pool reports when it has none ready. */
async function pickWhenReady(need: SacrificialNeed): Promise<NonNullable<ReturnType<Pool['pickSacrificial']>>> {
  for (let tries = 0; tries < 5; tries++) {
    const ready = new Promise<void>((resolve) => (capacity = resolve))
    const instance = pool.pickSacrificial(need)
    if (instance) return instance
    await ready
  }
  throw new Error('no sacrificial instance after 5 capacity reports')
}

test('a sacrificial run takes the ready spare, and then the spare still starting, never an instance of its own', async () => {
  await pool.start()
  assert.equal(pool.spareCount, 1)
  const first = await pickWhenReady({ shape, exclusive: true, fresh: true })
  assert.match(first.id, /^i/, 'the ready spare')
  // Taking it started the next spare; a run that cannot share `first` (another priority) needs
  // a second instance while that one starts.
  assert.equal(pool.startingCount, 1)
  const second = await pickWhenReady({ shape, exclusive: true, fresh: true, yields: true })
  assert.notEqual(second, first)
  assert.match(second.id, /^i/, `the spare-to-be, not a start of its own (got ${second.id})`)
  assert.equal(second.shape, shapeKey(shape))
  assert.equal(pool.sacrificialCount, 2)
  assert.equal(pool.spareCount + pool.startingCount, 1, 'and the pool starts its next spare')
})

/**
 * Requests waiting behind a stuck handler move at once (issue 9, point 3). The instance has
 * not started them, so the dispatcher takes them back (the instance skips them) and serves them
 * elsewhere: even requests that cannot be re-run, like a POST without an idempotency key, are
 * answered and run exactly once. Before, only idempotent ones moved, and only at half a lease;
 * the others died with the instance (502 CRASHLESS_ERR_INSTANCE_LOST).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { eventsSince, send, startWithConfig, stopAll, waitForEvents } from './harness.js'

after(stopAll)

test('POSTs queued behind a looping request on its instance are taken back, served elsewhere and run once', async () => {
  const server = await startWithConfig({ instances: 1, spares: 1, timeouts: { leaseMs: 1_000 } }, 'stall-app.mjs')
  const from = server.logs.length
  // All sent at once on separate connections: with one serving instance, the POSTs that arrive
  // after the loop wait in that instance's queue, not started.
  const spin = send(`${server.url}/spin`).catch((err: Error) => ({ status: 0, body: err.message }))
  const notes = Array.from({ length: 10 }, (_, i) => `n${i}`)
  const answers = await Promise.all(notes.map((note) => send(`${server.url}/note`, { method: 'POST', body: note })))
  for (const [i, answer] of answers.entries()) assert.equal(`${answer.status} ${answer.body}`, `200 noted ${notes[i]}`)
  const [evacuated] = await waitForEvents(server, from, 'evacuated', 1)
  assert.ok((evacuated!.moved as number) >= 1, 'POSTs that had not started were moved off the stuck instance')
  await spin
  const ran = readFileSync(join(server.cwd, 'notes.txt'), 'utf8').trim().split('\n').sort()
  assert.deepEqual(ran, [...notes].sort(), 'each POST ran exactly once')
  const lost = eventsSince(server, from, 'instance-lost')
  assert.ok(lost.every((l) => l.failed === 0 || l.culprit !== null), 'only the loop itself failed with its instance')
})

/**
 * A flood of distinct poison (an attacker varying one byte per request, so no signature repeats
 * and nothing can be quarantined) must not take benign service below 99% success: each poison
 * request fails alone (suppressed or blamed), and no benign request is blamed for it.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { send, startWithConfig, stopAll, underBenignLoad } from '../faults/harness.js'

after(stopAll)

for (const kind of ['throw', 'exit', 'loop']) {
  test(`a flood of distinct /fault/${kind} poison keeps benign success >= 99%`, async (t) => {
    const server = await startWithConfig({ instances: 2, timeouts: { leaseMs: 300, requestMs: 15_000 } })
    // Twenty poison requests, each with a new signature, sent back to back beside ten benign
    // loops: about 8% of the traffic for throw and exit (a loop poison holds for a lease each,
    // so there it is a smaller share). bench:poison runs the 10% flood over a longer episode.
    const { fault: poison, load } = await underBenignLoad(server.url, async () => {
      const answers = []
      for (let v = 0; v < 20; v++) answers.push(await send(`${server.url}/fault/${kind}?v=${v}`))
      return answers
    })
    const benignTotal = load.ok + load.failures.length
    t.diagnostic(`benign: ${load.ok}/${benignTotal} ok; poison answers: ${poison.map((a) => a.status).join(',')}`)
    assert.ok(load.ok / benignTotal >= 0.99, `benign success ${load.ok}/${benignTotal}: ${load.failures.slice(0, 5).join('; ')}`)
    // Every poison request failed on its own, with crashless's error, and was never quarantined
    // (each signature was new) — nor was any benign signature.
    for (const answer of poison) {
      const code = (JSON.parse(answer.body) as { error: { code: string } }).error.code
      assert.ok(['CRASHLESS_ERR_HANDLER', 'CRASHLESS_ERR_INSTANCE_LOST'].includes(code), `${answer.status} ${answer.body}`)
    }
    assert.deepEqual(server.logs.filter((l) => l.event === 'quarantined').map((l) => l.signature), [])
  })
}

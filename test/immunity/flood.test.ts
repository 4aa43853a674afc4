/**
 * A flood of distinct poison (an attacker varying one byte per request, so no signature repeats
 * and a quarantine never stops the next one) must not take benign service below 99% success:
 * each poison request fails alone, no benign request is blamed for it, and once
 * `immunity.bulkhead` distinct signatures of one route have failed, the route runs on
 * sacrificial instances only, so the rest of the flood never touches a serving instance.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { send, startWithConfig, stopAll, underBenignLoad, waitForEvents } from '../faults/harness.js'

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
    // Every poison request failed on its own with the ladder's verdict (each signature was new,
    // so none was refused unrun), and only poison signatures were quarantined.
    for (const answer of poison) {
      const code = (JSON.parse(answer.body) as { error: { code: string } }).error.code
      assert.equal(code, 'CRASHLESS_ERR_POISON', `${answer.status} ${answer.body}`)
    }
    const quarantined = await waitForEvents(server, 0, 'quarantined', 20)
    assert.deepEqual(quarantined.map((l) => l.signature).sort(), Array.from({ length: 20 }, (_, v) => `GET /fault/${kind}?v=${v} #-`).sort())
    // Five distinct failures put the route apart; from then on only sacrificial instances fail.
    const bulkhead = await server.waitForLog((l) => l.event === 'bulkhead', 1_000)
    assert.equal(bulkhead.route, `GET /fault/${kind}`)
    const at = server.logs.indexOf(bulkhead)
    // (The failure that put it apart may be logged just after the bulkhead line.)
    const laterFailures = server.logs.slice(at + 1).filter((l) => (l.event === 'request-crashed' || l.event === 'instance-lost') && l.reason !== 'retired' && (l.culprit ?? l.requestId) !== bulkhead.requestId)
    assert.ok(laterFailures.length >= 10, `the flood went on after the bulkhead (${laterFailures.length} failures)`)
    assert.deepEqual([...new Set(laterFailures.map((l) => l.role))], ['sacrificial'], 'after the bulkhead, no serving instance failed')
  })
}

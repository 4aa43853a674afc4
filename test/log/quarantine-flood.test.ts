/**
 * A flood of requests refused by quarantines, from many connections at once, against a real
 * crashless: the log says so once per signature per 5 s interval with a count (it once wrote one
 * line per refused request: 150,000 lines in 15 s), and the metric still counts every refusal.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { REPEAT_INTERVAL_MS } from '../../src/log/index.js'
import { assertCrashlessError, eventsSince, send, startWithConfig, stopAll } from '../faults/harness.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'

after(stopAll)

const SIGNATURES = ['GET /fault/throw?flood=a #-', 'GET /fault/throw?flood=b #-']
const CONNECTIONS = 24
const REQUESTS = 4_000
/** The flood stops here even if it has not sent everything (a bound, not a speed expectation). */
const FLOOD_MS = 30_000

async function quarantineHits(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text()
  return Number(/^crashless_quarantine_hits_total (\d+)$/m.exec(text)![1])
}

/** Refusals logged for `signature` since `from`: the first of each interval one each, the folded ones by their count. */
function logged(server: CrashlessProcess, from: number, signature: string): { lines: number; firsts: number; summaries: number; refusals: number } {
  const hits = eventsSince(server, from, 'quarantine-hit').filter((l) => l.signature === signature)
  const summaries = hits.filter((l) => l.aggregated === true)
  const refusals = hits.length - summaries.length + summaries.reduce((sum, l) => sum + (l.count as number), 0)
  return { lines: hits.length, firsts: hits.length - summaries.length, summaries: summaries.length, refusals }
}

test(`${REQUESTS} refused requests from ${CONNECTIONS} connections: a few lines per signature, each refusal counted`, async (t) => {
  const server = await startWithConfig({ instances: 2, immunity: { threshold: 2, quarantineMs: 120_000 }, recovery: { ladder: [] } })
  const admin = await server.waitForLog((l) => l.event === 'admin-listening', 5_000)
  const adminUrl = `http://127.0.0.1:${admin.port as number}`
  for (const signature of SIGNATURES) {
    const url = `${server.url}${signature.split(' ')[1]}`
    assertCrashlessError(await send(url), 500, 'CRASHLESS_ERR_HANDLER')
    assertCrashlessError(await send(url), 500, 'CRASHLESS_ERR_HANDLER')
    await server.waitForLog((l) => l.event === 'quarantined' && l.signature === signature, 5_000)
  }
  const from = server.logs.length
  const hitsBefore = await quarantineHits(adminUrl)

  const sent = new Map(SIGNATURES.map((s) => [s, 0]))
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < REQUESTS && performance.now() - started < FLOOD_MS) {
        const signature = SIGNATURES[next++ % SIGNATURES.length]!
        assertCrashlessError(await send(`${server.url}${signature.split(' ')[1]}`), 500, 'CRASHLESS_ERR_QUARANTINED')
        sent.set(signature, sent.get(signature)! + 1)
      }
    }),
  )
  const floodMs = performance.now() - started
  const total = [...sent.values()].reduce((a, b) => a + b, 0)
  t.diagnostic(`${total} refusals in ${Math.round(floodMs)} ms`)
  assert.ok(total >= 1_000, `only ${total} requests were sent in ${FLOOD_MS} ms`)

  // Every refusal is accounted for once the last interval's summary is out.
  await server.waitForLog(() => SIGNATURES.every((s) => logged(server, from, s).refusals >= sent.get(s)!), REPEAT_INTERVAL_MS * 3)
  // Intervals the flood touched: the first refusal of each is logged, the rest folded into its summary.
  const intervals = Math.ceil(floodMs / REPEAT_INTERVAL_MS) + 1
  for (const signature of SIGNATURES) {
    const seen = logged(server, from, signature)
    t.diagnostic(`${signature}: ${sent.get(signature)} refused, ${seen.lines} lines (${seen.firsts} first, ${seen.summaries} summaries)`)
    assert.equal(seen.refusals, sent.get(signature), 'the lines account for each refusal exactly once')
    assert.ok(seen.firsts >= 1 && seen.firsts <= intervals, `${seen.firsts} first-of-interval lines for ${intervals} interval(s)`)
    assert.ok(seen.summaries >= 1 && seen.summaries <= intervals, `${seen.summaries} summary lines for ${intervals} interval(s)`)
  }
  const first = eventsSince(server, from, 'quarantine-hit').find((l) => l.aggregated !== true)!
  assert.equal(typeof first.requestId, 'string', 'the first refusal is logged with its request id')
  assert.equal(await quarantineHits(adminUrl), hitsBefore + total, 'crashless_quarantine_hits_total counts every refusal')
})

// runAttacker: poison requests GET /items/search?q=%00poison<random> at a fixed rate (open loop:
// a shot does not wait for the previous one's answer), each with a different query so each has
// its own signature. Each shot goes on a fresh connection (bench/lib/poison-request.js), so a
// cluster spreads them over its workers. Not user actions: recorded apart, as requests.
import { sendPoison } from '../../lib/poison-request.js'
import { prng } from './markov.js'
import { sleep } from './think.js'

const MAX_IN_FLIGHT = 100

export async function runAttacker({ origin, ratePerSec = 1, durationMs = 10_000, seed = 1, signal, requestTimeoutMs = 2_000 }) {
  const rng = prng(seed ^ 0xbad5eed)
  const t0 = performance.now()
  const requests = []
  const inFlight = new Set()
  let skipped = 0
  const intervalMs = 1000 / ratePerSec
  for (let i = 0; !signal?.aborted; i++) {
    const due = i * intervalMs
    if (due >= durationMs) break
    await sleep(due - (performance.now() - t0), signal)
    if (signal?.aborted) break
    if (inFlight.size >= MAX_IN_FLIGHT) {
      skipped++ // a hung server: don't pile up sockets
      continue
    }
    const path = `/items/search?q=%00poison${i.toString(36)}${randomHex(rng, 8)}`
    const shot = sendPoison({ origin, path, timeoutMs: requestTimeoutMs, t0 }).then((s) => {
      inFlight.delete(shot)
      const answered = typeof s.status === 'number'
      const record = { t: round(s.at + s.ms), ms: round(s.ms), ok: answered && s.status < 500, status: answered ? s.status : 0, path, outcome: s.outcome }
      requests.push(record)
    })
    inFlight.add(shot)
  }
  await Promise.all(inFlight)
  requests.sort((a, b) => a.t - b.t)
  return { startedAt: performance.timeOrigin + t0, durationMs, ratePerSec, requests, skipped }
}

function randomHex(rng, bytes) {
  let s = ''
  for (let i = 0; i < bytes; i++) s += Math.floor(rng() * 256).toString(16).padStart(2, '0')
  return s
}

function round(ms) {
  return Math.round(ms * 100) / 100
}

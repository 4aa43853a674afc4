// Benign closed-loop load with a poison flood mixed in: `concurrency` loops send GET `benignPath`
// over a shared keep-alive undici Pool (as closed-loop.js does); once measuring, every `every`-th
// request of the whole client is instead a poison, `poisonPathFor(n)` (n = 0, 1, ...), sent on a
// fresh connection and NOT awaited by the loop: the attacker does not wait for its own requests,
// so a slow poison (an infinite loop) does not slow the flood down, and poison stays exactly
// 1/every of the requests sent. Only benign throughput regulates it: a server that answers
// benign traffic slowly also gets less poison. At most `maxPoisonInFlight` poisons are open at
// once (the loop waits for a slot, and the wait is counted), to bound the bench's own sockets.
import { Pool } from 'undici'
import { sendPoison } from './poison-request.js'
import { SampleLog } from './sample-log.js'

export async function floodLoop({
  origin,
  benignPath = '/ok',
  poisonPathFor,
  every = 10,
  concurrency = 20,
  durationMs = 6000,
  warmupMs = 1000,
  timeoutMs = 5000,
  poisonTimeoutMs = 2000,
  maxPoisonInFlight = 200,
  maxRequests = 2_000_000,
  errorPauseMs = 10,
  onStart,
}) {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } })
  const samples = new SampleLog()
  const shots = []
  const pending = new Set()
  let slotWaiters = []
  let capWaits = 0
  let t0 = 0
  let sent = 0
  let measuredSeq = 0
  let measuring = false
  const warmupEnd = performance.now() + warmupMs
  let stopAt = Infinity

  async function benign() {
    const start = performance.now()
    let outcome
    try {
      const res = await pool.request({ path: benignPath, method: 'GET' })
      await res.body.dump()
      outcome = res.statusCode
    } catch (err) {
      outcome = err.code ?? err.name ?? 'error'
    }
    return { start, end: performance.now(), outcome, ok: typeof outcome === 'number' && outcome >= 200 && outcome < 300 }
  }

  async function firePoison() {
    while (pending.size >= maxPoisonInFlight) {
      capWaits++
      await new Promise((resolve) => slotWaiters.push(resolve))
    }
    const slot = { n: shots.length }
    shots.push(slot)
    const p = sendPoison({ origin, path: poisonPathFor(slot.n), timeoutMs: poisonTimeoutMs, t0 }).then((shot) => {
      Object.assign(slot, shot)
      pending.delete(p)
      const waiters = slotWaiters
      slotWaiters = []
      for (const wake of waiters) wake()
    })
    pending.add(p)
  }

  async function loop() {
    while (performance.now() < stopAt && sent < maxRequests) {
      if (!measuring && performance.now() >= warmupEnd) startMeasuring()
      sent++
      if (measuring && ++measuredSeq % every === 0) {
        await firePoison()
        continue
      }
      const wasMeasuring = measuring
      const { start, end, outcome, ok } = await benign()
      if (wasMeasuring) samples.push(start - t0, end - t0, ok, outcome)
      if (!ok) await new Promise((r) => setTimeout(r, errorPauseMs))
    }
  }

  function startMeasuring() {
    measuring = true
    t0 = performance.now()
    stopAt = t0 + durationMs
    onStart?.(t0)
  }

  // If every loop is stuck in a request when warm-up ends, start measuring anyway.
  const warmTimer = setTimeout(() => measuring || startMeasuring(), warmupMs)
  try {
    await Promise.all(Array.from({ length: concurrency }, loop))
    await Promise.all([...pending])
  } finally {
    clearTimeout(warmTimer)
    await pool.destroy().catch(() => {})
  }
  return { samples, shots, capWaits, t0, durationMs }
}

// Fixed-duration closed-loop HTTP load with autocannon (run in-process, programmatically):
// an unrecorded warm-up, then the measured run. Latencies are re-recorded from autocannon's
// per-response events at 10 µs resolution (autocannon's own histogram rounds to whole ms).
import autocannon from 'autocannon'
import { LatencyHistogram } from './latency-histogram.js'
import { watchClientStalls, longestStall } from './client-stalls.js'

function cannon(opts, onInstance) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)))
    onInstance?.(instance)
  })
}

/**
 * url: full URL (127.0.0.1 only). Returns { reqPerSec, ok, total, p50, p90, p99, max, errors,
 * timeouts, non2xx, durationSec, clientStallMs } with latencies in ms; reqPerSec counts 2xx responses
 * only; clientStallMs is the longest time the load generator's own event loop did not run.
 * countCpu (optional): called when the measured run starts; it returns a function called when it
 * ends, whose value is returned as `cpu` (see thread-cpu.js).
 */
export async function runLoad({ url, connections = 50, durationSec = 10, warmupSec = 2, timeoutSec = 10, countCpu }) {
  if (!/^http:\/\/127\.0\.0\.1[:/]/.test(url)) throw new Error(`load only to 127.0.0.1, got ${url}`)
  const base = { url, connections, pipelining: 1, timeout: timeoutSec }
  if (warmupSec > 0) await cannon({ ...base, duration: warmupSec })
  const hist = new LatencyHistogram()
  const watcher = watchClientStalls()
  const stopCpu = countCpu?.()
  const result = await cannon({ ...base, duration: durationSec }, (instance) => {
    instance.on('response', (_client, _status, _bytes, responseTime) => hist.record(responseTime))
  })
  const cpu = stopCpu?.() ?? null
  const stalls = watcher.stop()
  const ok = result['2xx']
  return {
    reqPerSec: ok / result.duration,
    ok,
    total: result.requests.total,
    p50: hist.percentile(50),
    p90: hist.percentile(90),
    p99: hist.percentile(99),
    max: hist.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    durationSec: result.duration,
    clientStallMs: longestStall(stalls),
    cpu,
  }
}

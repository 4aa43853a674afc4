// Polls a URL until it answers 2xx, or fails after timeoutMs. `alive()` lets the caller abort early
// (e.g. the server process already exited).
import http from 'node:http'

function probe(url, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
      res.on('error', () => resolve(0))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(0))
  })
}

export async function waitReady(url, { timeoutMs = 30_000, intervalMs = 100, alive = () => true } = {}) {
  const deadline = Date.now() + timeoutMs
  let last = 0
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`server exited before ${url} answered`)
    last = await probe(url, 1000)
    if (last >= 200 && last < 300) return
    await sleep(intervalMs)
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (last status ${last || 'no answer'})`)
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

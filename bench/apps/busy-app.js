// Busy sample app for bench/busy.js: an unmodified node:http script whose route does ordinary
// synchronous CPU work, as a route that renders, parses, hashes or compresses does. Nothing is
// wrong with it: it is slow on purpose, and every request is answered. Run as-is by every peer.
//
//   GET /ok          tiny text (readiness)
//   GET /cpu?ms=50   ~50 ms of synchronous CPU, then a small text answer: a fixed amount of
//                    floating-point math (see cpu-work.js), no sleep, no Atomics.wait
//
// BUSY_ROUNDS_PER_MS (set by busy.js, the same for every peer) says how much work one ms is; when
// it is not set, the app measures it itself at start.
import http from 'node:http'
import { calibrate, work } from './cpu-work.js'

const PORT = Number(process.env.PORT) || 3000
const MAX_MS = 5000
const ROUNDS_PER_MS = Number(process.env.BUSY_ROUNDS_PER_MS) || calibrate()

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost')
  if (url.pathname === '/ok') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
    return
  }
  if (url.pathname === '/cpu') {
    const ms = Number(url.searchParams.get('ms') ?? 50)
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS) {
      res.writeHead(400, { 'content-type': 'text/plain' })
      res.end(`ms must be 0..${MAX_MS}`)
      return
    }
    const rounds = Math.round(ms * ROUNDS_PER_MS)
    // The result goes into the answer, so the compiler can't drop the work.
    const x = work(rounds)
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(`busy ${ms} ms: ${rounds} rounds, ${x.toFixed(3)}`)
    return
  }
  res.writeHead(404, { 'content-type': 'text/plain' })
  res.end('not found')
})

server.listen(PORT)

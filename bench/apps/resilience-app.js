// Sample app for bench/resilience.js: an unmodified node:http script, run as-is by every peer. Every
// answer names the process that served it, so the bench can tell from the client side alone when
// a replacement process (crashless's promoted standby, a restarted or reloaded PM2 worker) starts
// answering.
//
//   GET /ok          tiny text (readiness)
//   GET /pid         the serving process's pid
//   GET /work?ms=1   ~1 ms of synchronous CPU (a fixed amount of math, see cpu-work.js), then the
//                    serving process's pid: an ordinary route that costs something, so that losing
//                    a process costs capacity and not just a socket
//
// BUSY_ROUNDS_PER_MS (set by resilience.js, the same for every peer) says how much work one ms is;
// when it is not set, the app measures it itself at start.
import http from 'node:http'
import { calibrate, work } from './cpu-work.js'

const PORT = Number(process.env.PORT) || 3000
const MAX_MS = 100
const ROUNDS_PER_MS = Number(process.env.BUSY_ROUNDS_PER_MS) || calibrate()

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost')
  if (url.pathname === '/ok') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
    return
  }
  if (url.pathname === '/pid') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(String(process.pid))
    return
  }
  if (url.pathname === '/work') {
    const ms = Number(url.searchParams.get('ms') ?? 1)
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS) {
      res.writeHead(400, { 'content-type': 'text/plain' })
      res.end(`ms must be 0..${MAX_MS}`)
      return
    }
    // The result is used (compared), so the compiler can't drop the work; the body is just the pid.
    const x = work(Math.round(ms * ROUNDS_PER_MS))
    res.writeHead(200, { 'content-type': 'text/plain', 'x-work': x > 0 ? '1' : '0' })
    res.end(String(process.pid))
    return
  }
  res.writeHead(404, { 'content-type': 'text/plain' })
  res.end('not found')
})

server.listen(PORT)

// Faulty sample app for bench/faults.js: an unmodified node:http script with one benign route
// and one route per fault kind. Run as-is by PM2 cluster mode and by crashless (listen() captured).
//
//   GET /ok                 benign: tiny text
//   GET /fault/throw        synchronous throw in the handler
//   GET /fault/async-throw  throw inside a setTimeout callback (escapes the handler)
//   GET /fault/reject       unhandled promise rejection
//   GET /fault/exit         process.exit(1)
//   GET /fault/loop         infinite loop (blocks the event loop forever)
//   GET /fault/oom          allocate retained arrays until the heap is exhausted
//   GET /fault/stack        unbounded recursion (RangeError: Maximum call stack size exceeded)
//   GET /fault/hang         never respond (the request just stays open)
//   GET /fault/redos?n=<n>  a real ReDoS in a dependency: semver 7.5.1 (CVE-2022-25883) parsing a
//                           range of n spaces (default 40000) between two comparators; answers 200
//                           once the regex is done (~1-3 s of CPU)
import http from 'node:http'
import semver from 'semver'
import { faultKinds } from './fault-kinds.js'

const PORT = Number(process.env.PORT) || 3000

const faults = faultKinds

// CVE-2022-25883: semver < 7.5.2 trims the whitespace around a range's comparators with regexes
// that backtrack on a long run of spaces, quadratically: `new Range()` (so satisfies(), validRange(),
// ...) of '>=1.2.3' + n spaces + '<1.3.0' took 0.2 s at n = 16000 and 0.9 s at 32000 in plain node
// (2 cores, busy), and about 1.4 s at the default 40000. The payload stands for untrusted input (a
// request would carry it in a body; a URL that long would exceed node's header limit), so the
// request only says how long it is, and the app builds it.
const REDOS_DEFAULT_SPACES = 40_000
const REDOS_MAX_SPACES = 200_000

function redos(query, res) {
  const n = Math.min(REDOS_MAX_SPACES, Number(new URLSearchParams(query).get('n')) || REDOS_DEFAULT_SPACES)
  const range = '>=1.2.3' + ' '.repeat(n) + '<1.3.0'
  const started = performance.now()
  const ok = semver.satisfies('1.2.3', range)
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end(`satisfies ${ok} after ${Math.round(performance.now() - started)} ms`)
}

const server = http.createServer((req, res) => {
  if (req.url === '/ok') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
    return
  }
  if (req.url === '/fault/redos' || req.url.startsWith('/fault/redos?')) {
    redos(req.url.slice('/fault/redos?'.length), res)
    return
  }
  const kind = req.url.startsWith('/fault/') ? req.url.slice('/fault/'.length) : undefined
  const fault = kind !== undefined && Object.hasOwn(faults, kind) ? faults[kind] : undefined
  if (fault === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found')
    return
  }
  fault()
  // async-throw, reject and hang return without answering, like a buggy async handler:
  // the first two then crash a moment later, hang leaves the request open forever.
})

server.listen(PORT)

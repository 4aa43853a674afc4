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
import http from 'node:http'
import { faultKinds } from './fault-kinds.js'

const PORT = Number(process.env.PORT) || 3000

const faults = faultKinds

const server = http.createServer((req, res) => {
  if (req.url === '/ok') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
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

// Poison sample app for bench/poison.js: an unmodified node:http script with one benign route and
// one poison route per fault kind. Run as-is by PM2 cluster mode and by crashless (listen() captured).
// Every poison route takes any query (`?v=<n>`): the handler ignores it, so the bench can send the
// same poison again (same query: same crashless signature) or vary its bytes (new query: a new
// signature every time), as an attacker dodging a quarantine would.
//
//   GET /ok                        benign: tiny text
//   GET /poison/throw?v=n          synchronous throw in the handler
//   GET /poison/async-throw?v=n    throw inside a setTimeout callback (escapes the handler)
//   GET /poison/reject?v=n         unhandled promise rejection (never answers)
//   GET /poison/exit?v=n           process.exit(1)
//   GET /poison/loop?v=n           infinite loop (blocks the event loop forever)
//   GET /poison/oom?v=n            retains 8 MB arrays until the heap is exhausted
//   GET /poison/stack?v=n          unbounded recursion (RangeError: Maximum call stack size exceeded)
//   GET /poison/hang?v=n           never answers (the kinds are shared with faults-app.js)
import http from 'node:http'
import { faultKinds } from './fault-kinds.js'

const PORT = Number(process.env.PORT) || 3000

const poisons = faultKinds

const server = http.createServer((req, res) => {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  if (path === '/ok') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
    return
  }
  const kind = path.startsWith('/poison/') ? path.slice('/poison/'.length) : undefined
  const poison = kind !== undefined && Object.hasOwn(poisons, kind) ? poisons[kind] : undefined
  if (poison === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found')
    return
  }
  poison()
  // async-throw and reject return without answering, like a buggy async handler: they crash a
  // moment later (or, under PM2, reject is swallowed and the request stays open).
})

server.listen(PORT)

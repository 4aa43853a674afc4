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

const PORT = Number(process.env.PORT) || 3000

function recurse(n) {
  return recurse(n + 1) + 1
}

const faults = {
  throw() {
    throw new Error('fault: sync throw in handler')
  },
  'async-throw'() {
    setTimeout(() => {
      throw new Error('fault: throw in setTimeout callback')
    }, 1)
  },
  reject() {
    Promise.reject(new Error('fault: unhandled rejection'))
  },
  exit() {
    process.exit(1)
  },
  loop() {
    // eslint-disable-next-line no-constant-condition
    for (let i = 0; ; i++) if (i === -1) break
  },
  oom() {
    // 8 MB packed arrays, all retained: a 512 MiB heap is exhausted in well under a second.
    const keep = []
    for (let i = 0; ; i++) keep.push(new Array(1 << 20).fill(i))
  },
  stack() {
    recurse(0)
  },
  hang() {
    // never respond
  },
}

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

// Memory faults for bench/memory.js (issue 15): an unmodified node:http script, run as-is by PM2
// cluster mode and by crashless (listen() captured).
//
//   GET /ok                    benign: tiny text
//   GET /leak?mb=<n>           a plain leak: n MiB of small JS objects kept reachable for good, as a
//                              cache never evicted would (the issue's: 50 MiB per call; slow: 2)
//   GET /bomb                  a fast bomb: push() 1e8 times onto one array in one synchronous loop
//                              (~800 MiB, past a 512 MiB heap: the shape of nodejs/node#65019 that
//                              aborts a whole process when V8 reaches a worker's limit)
//   GET /external-bomb?mb=<n>  memory outside the heap: n MiB of Buffers, 16 MiB per event-loop
//                              turn as a stream inflating a decompression bomb would, then answered
//                              and let go
import http from 'node:http'

const PORT = Number(process.env.PORT) || 3000
const kept = []

function leak(mb) {
  // About 64 bytes per object: 16,384 objects per MiB.
  const batch = new Array(mb * 16_384)
  for (let i = 0; i < batch.length; i++) batch[i] = { i, at: i * 2, tag: 'leak' }
  kept.push(batch)
}

function externalBomb(mb, done) {
  const buffers = []
  const turn = () => {
    for (let i = 0; i < 16 && buffers.length < mb; i++) buffers.push(Buffer.alloc(1024 * 1024, 1))
    if (buffers.length < mb) setImmediate(turn)
    else done(buffers.length)
  }
  turn()
}

http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost')
    const mb = Number(url.searchParams.get('mb') ?? 0)
    switch (url.pathname) {
      case '/leak':
        leak(mb || 50)
        return void res.end(`kept ${kept.length}`)
      case '/bomb': {
        const a = []
        for (let i = 0; i < 1e8; i++) a.push(i)
        return void res.end(`pushed ${a.length}`)
      }
      case '/external-bomb':
        return void externalBomb(mb || 1024, (n) => res.end(`inflated ${n} MiB`))
      default:
        res.setHeader('content-type', 'text/plain')
        res.end('ok')
    }
  })
  .listen(PORT)

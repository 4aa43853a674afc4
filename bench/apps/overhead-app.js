// Fault-free sample app for bench/overhead.js: an unmodified node:http script.
// The same file runs under plain node, PM2 cluster mode and crashless (which captures listen()).
//
//   GET /trivial  -> "ok" (tiny text)
//   GET /json     -> ~0.2 ms of JSON work, then a small JSON summary
//
// JSON_ITEMS = 250: building the 250-item object, JSON.stringify (~19 kB) and JSON.parse took
// ~0.19-0.22 ms per call on the bench machine (2 cores, Node 20.20, measured warm over 5000 calls;
// 200 items = 0.16 ms, 300 items = 0.24 ms). Override with env JSON_ITEMS. The response is a
// small summary so the bench measures CPU work, not bulk transfer.
import http from 'node:http'

const PORT = Number(process.env.PORT) || 3000
const JSON_ITEMS = Number(process.env.JSON_ITEMS) || 250

function jsonWork(n) {
  const items = []
  for (let i = 0; i < n; i++) {
    items.push({ id: i, name: 'item-' + i, price: i * 1.25, tags: ['a', 'b', 'c'], active: (i & 1) === 0 })
  }
  const text = JSON.stringify({ count: n, items })
  const back = JSON.parse(text)
  let sum = 0
  for (const item of back.items) sum += item.price
  return { count: back.count, bytes: text.length, sum }
}

const server = http.createServer((req, res) => {
  if (req.url === '/trivial') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
  } else if (req.url === '/json') {
    const body = JSON.stringify(jsonWork(JSON_ITEMS))
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found')
  }
})

server.listen(PORT)

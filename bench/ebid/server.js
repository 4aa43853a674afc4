// eBid: the campaign's auction service (contract: API.md). An ordinary Express 5 app, run
// unmodified by every peer: plain node, node cluster, PM2 cluster mode and `crashless run`
// (which captures the listen()). Each component is a router on its own route prefix, so crashless
// can microreboot or fault it alone.
import express from 'express'
import { bids } from './components/bids.js'
import { home } from './components/home.js'
import { items } from './components/items.js'
import { users } from './components/users.js'

const app = express()
app.disable('x-powered-by')
app.set('etag', false) // answers change with every bid: no conditional GETs
app.use(express.json({ limit: '16kb' }))

app.use('/users', users)
app.use('/items', items)
app.use('/bids', bids)
app.use(home)

app.use((req, res) => {
  res.status(404).json({ error: `no route ${req.method} ${req.path}` })
})

// Errors answer JSON: a 4xx from the body parser, otherwise 500 (e.g. the app meeting a value it
// cannot handle).
app.use((err, req, res, next) => {
  const status = Number.isInteger(err?.status) && err.status >= 400 && err.status < 600 ? err.status : 500
  if (status >= 500) console.error(`ebid: ${req.method} ${req.originalUrl}: ${err?.message ?? err}`)
  if (res.headersSent) return next(err)
  res.status(status).json({ error: status >= 500 ? String(err?.message ?? err) : 'bad request' })
})

app.listen(process.env.PORT ?? 3000, '127.0.0.1')

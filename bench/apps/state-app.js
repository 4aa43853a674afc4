// Store-operation sample app for bench/state.js: an unmodified node:http script doing the same
// store operations per request whichever way it keeps its state:
//
//   under crashless       req.crashless.store (the backend is crashless's config: memory,
//                         sqlite or redis); a request's writes commit atomically with it
//   STATE_MODE=memory     a Map in this process (the floor: no store cost at all)
//   STATE_MODE=sqlite     better-sqlite3 directly: WAL, synchronous=NORMAL (what crashless's
//                         sqlite backend uses), one transaction per request
//   STATE_MODE=redis      ioredis directly (REDIS_URL): a GET and a SET per operation, awaited
//                         in turn, as plain app code does (not atomic; crashless's commit is)
//
//   GET /none   -> no store operation (each runtime's own baseline)
//   GET /read   -> OPS reads of random keys
//   GET /rw     -> OPS read-increment-write operations on random keys
//
// OPS (default 3) and KEYS (default 10000, the key space; large so concurrent requests rarely
// touch the same key: the bench measures store cost, not contention) come from the environment.
import http from 'node:http'

const PORT = Number(process.env.PORT) || 3000
const OPS = Number(process.env.OPS) || 3
const KEYS = Number(process.env.KEYS) || 10_000
const MODE = process.env.STATE_MODE

const randomKey = () => `k${Math.floor(Math.random() * KEYS)}`
const keys = () => Array.from({ length: OPS }, randomKey)

/** { read(keys) -> values, rw(keys) -> sum } for the plain modes; null under crashless. */
async function openDirect() {
  if (MODE === undefined) return null
  if (MODE === 'memory') {
    const map = new Map()
    return {
      read: async (ks) => ks.map((k) => map.get(k)),
      rw: async (ks) => ks.reduce((sum, k) => {
        const v = (map.get(k) ?? 0) + 1
        map.set(k, v)
        return sum + v
      }, 0),
    }
  }
  if (MODE === 'sqlite') {
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(process.env.SQLITE_PATH ?? 'state-bench.db')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)')
    const get = db.prepare('SELECT v FROM kv WHERE k = ?').pluck()
    const put = db.prepare('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v')
    const rw = db.transaction((ks) => {
      let sum = 0
      for (const k of ks) {
        const v = JSON.parse(get.get(k) ?? '0') + 1
        put.run(k, JSON.stringify(v))
        sum += v
      }
      return sum
    })
    return { read: async (ks) => ks.map((k) => get.get(k)), rw: async (ks) => rw(ks) }
  }
  if (MODE === 'redis') {
    const { Redis } = await import('ioredis')
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: 'direct:' })
    return {
      read: async (ks) => {
        const out = []
        for (const k of ks) out.push(await redis.get(k))
        return out
      },
      rw: async (ks) => {
        let sum = 0
        for (const k of ks) {
          const v = JSON.parse((await redis.get(k)) ?? '0') + 1
          await redis.set(k, JSON.stringify(v))
          sum += v
        }
        return sum
      },
    }
  }
  throw new Error(`unknown STATE_MODE ${MODE}`)
}

const direct = await openDirect()

/** The same operations through crashless's per-request store. */
const viaCrashless = {
  read: async (store, ks) => {
    const out = []
    for (const k of ks) out.push(await store.get(k))
    return out
  },
  rw: async (store, ks) => {
    let sum = 0
    for (const k of ks) {
      const v = ((await store.get(k)) ?? 0) + 1
      await store.set(k, v)
      sum += v
    }
    return sum
  },
}

async function handle(req, res) {
  const route = req.url.split('?')[0]
  if (route === '/none') return send(res, 200, 'ok')
  if (route !== '/read' && route !== '/rw') return send(res, 404, 'no route')
  const ks = keys()
  const store = req.crashless?.store
  if (!store && !direct) return send(res, 500, 'not under crashless and no STATE_MODE')
  const result = store ? await viaCrashless[route.slice(1)](store, ks) : await direct[route.slice(1)](ks)
  send(res, 200, JSON.stringify({ ops: ks.length, result: route === '/rw' ? result : result.length }))
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

http
  .createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, String(err?.message ?? err)))
  })
  .listen(PORT)

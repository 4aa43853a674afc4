// A small service with one route per fault crashless recovers from. It is an ordinary,
// unmodified node:http script: run it with plain `node` and each fault route takes the whole
// process down; run it under crashless and only the faulty request fails.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { isMainThread, threadId } from 'node:worker_threads'
import { store } from 'crashless'

const leaked: unknown[] = []
let served = 0

const faults: Record<string, { what: string; run: (req: IncomingMessage, res: ServerResponse) => void }> = {
  '/fault/throw': { what: 'synchronous throw in the handler', run: () => { throw new Error('sync throw in handler') } },
  '/fault/async-throw': { what: 'throw in a timer callback', run: () => { setTimeout(() => { throw new Error('async throw') }, 5) } },
  '/fault/reject': { what: 'unhandled promise rejection', run: () => { void Promise.reject(new Error('unhandled rejection')) } },
  '/fault/exit': { what: 'process.exit(1) in app code', run: () => process.exit(1) },
  '/fault/loop': { what: 'infinite loop (blocks the event loop)', run: () => { for (;;) { /* spin */ } } },
  '/fault/oom': {
    what: 'heap exhaustion (leak until out of memory)',
    run: () => {
      for (;;) leaked.push(new Array(1e6).fill(served))
    },
  },
  '/fault/stack': { what: 'stack overflow (unbounded recursion)', run: () => { const recurse = (n: number): number => recurse(n + 1) + 1; recurse(0) } },
  '/fault/hang': { what: 'a promise that never resolves (the deadline answers 504)', run: () => { void new Promise(() => {}) } },
  '/fault/write-then-crash': {
    what: 'adds 1000 to the counter in the store, then crashes: the write is never committed',
    run: () => {
      void (async () => {
        const count = (await store.get<number>('count')) ?? 0
        await store.set('count', count + 1000)
        throw new Error('crashed after writing')
      })()
    },
  },
}

// Under crashless each instance is a worker thread of the runtime process, or a process of its
// own under `isolation: 'process'`; under plain `node` the app is the one process.
function servedBy(): string {
  return isMainThread ? `process ${process.pid}` : `worker thread ${threadId} of process ${process.pid}`
}

function index(res: ServerResponse): void {
  const rows = Object.entries(faults).map(([path, f]) => `<li><a href="${path}">${path}</a> — ${f.what}</li>`).join('\n')
  res.setHeader('content-type', 'text/html; charset=utf-8')
  res.end(`<!doctype html><title>crashless showcase</title>
<h1>crashless showcase</h1>
<p>Served by ${servedBy()}; requests served by this instance: ${served}.</p>
<p><a href="/count">/count</a> increments a counter kept in crashless's embedded SQLite store
(<code>.crashless/state.db</code>): it survives every fault below and restarts of crashless.</p>
<p><a href="/ok">/ok</a> is a benign route. Each fault route below breaks the instance serving it;
crashless answers that one request with an error and keeps serving everyone else. Watch the log.
The second time the same fault request fails, crashless quarantines it: the third is refused at
once without running (<code>npx crashless immunity ls</code> lists quarantines,
<code>npx crashless immunity release '&lt;signature&gt;'</code> lifts one).</p>
<ul>${rows}</ul>`)
}

http
  .createServer((req, res) => {
    served++
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/') return index(res)
    if (path === '/ok') {
      res.setHeader('content-type', 'application/json')
      return res.end(JSON.stringify({ ok: true, served, pid: process.pid }))
    }
    if (path === '/count') {
      void (async () => {
        const count = ((await store.get<number>('count')) ?? 0) + 1
        await store.set('count', count)
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ count }))
      })()
      return
    }
    const fault = faults[path]
    if (fault) return fault.run(req, res)
    res.statusCode = 404
    res.end('not found\n')
  })
  .listen(Number(process.env.PORT ?? 3000))

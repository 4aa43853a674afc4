/**
 * The quiet watch of a sacrificial instance (src/host/quiet-watch.ts), run in a real worker
 * thread whose message port stands for the instance's plumbing: a request waiting on a timer, a
 * store read or a socket is never reported; once nothing is pending it is reported once, after
 * QUIET_CHECKS checks in a row. Time is counted in the watch's own checks, not in milliseconds.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'

interface Results {
  timer: number
  store: number
  socket: number
  quiet: number[][]
  checksToReport: number
  again: number
  joined: number[][]
}

test('a held request is reported quiet only when no timer, store read or socket is pending, once, after QUIET_CHECKS checks', async () => {
  const module = new URL('../../src/host/quiet-watch.js', import.meta.url).href
  const worker = new Worker(
    `import { parentPort } from 'node:worker_threads'
     import { createServer } from 'node:net'
     import { once } from 'node:events'
     const { QuietWatch, QUIET_CHECKS } = await import(${JSON.stringify(module)})
     let checks = 0
     let onCheck = null
     const held = [1]
     let outstanding = 0
     const reports = []
     const watch = new QuietWatch(() => { checks++; onCheck?.(); return [...held] }, () => outstanding, (ids) => reports.push(ids))
     parentPort.on('message', () => {})
     watch.baseline()
     const afterChecks = (n) => new Promise((resolve) => {
       const until = checks + n
       onCheck = () => { if (checks >= until) { onCheck = null; resolve() } }
     })
     watch.start()
     const results = {}
     const timer = setTimeout(() => {}, 60_000)
     await afterChecks(QUIET_CHECKS * 2)
     results.timer = reports.length
     clearTimeout(timer)
     outstanding = 1
     await afterChecks(QUIET_CHECKS * 2)
     results.store = reports.length
     outstanding = 0
     const server = createServer().listen(0, '127.0.0.1')
     await once(server, 'listening')
     await afterChecks(QUIET_CHECKS * 2)
     results.socket = reports.length
     server.close()
     await once(server, 'close')
     const from = checks
     while (reports.length === 0 && checks - from < QUIET_CHECKS * 4) await afterChecks(1)
     results.quiet = reports.slice()
     results.checksToReport = checks - from
     await afterChecks(QUIET_CHECKS * 2)
     results.again = reports.length
     held.push(2)
     await afterChecks(QUIET_CHECKS + 1)
     results.joined = reports.slice(1)
     parentPort.postMessage(results)`,
    { eval: true, type: 'module' } as never,
  )
  const results = (await new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })) as Results
  await worker.terminate()
  const { QUIET_CHECKS } = await import('../../src/host/quiet-watch.js')
  assert.equal(results.timer, 0, 'a pending timer: not quiet')
  assert.equal(results.store, 0, 'a store read out: not quiet')
  assert.equal(results.socket, 0, 'an open socket: not quiet')
  assert.deepEqual(results.quiet, [[1]], 'nothing pending: reported')
  assert.ok(results.checksToReport >= QUIET_CHECKS && results.checksToReport <= QUIET_CHECKS + 1, `reported after ${results.checksToReport} checks`)
  assert.equal(results.again, 1, 'reported once')
  assert.deepEqual(results.joined, [[1, 2]], 'a request that joins is reported with all the instance holds')
})

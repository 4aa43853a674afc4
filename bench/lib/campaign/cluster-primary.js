// The `cluster` peer's primary: what a Node team writes by hand with node:cluster. One worker per
// core runs the app (`node cluster-primary.js <app.js>`); any worker that exits is replaced by a
// fresh fork. No liveness check: a worker stuck in a loop or a deadlock stays (as with PM2).
// Workers inherit this process's execArgv, so `node --max-old-space-size=N cluster-primary.js`
// caps every worker's heap. One JSON line per worker event on stdout, counted by peers/cluster.js.
import cluster from 'node:cluster'
import os from 'node:os'
import path from 'node:path'

const app = process.argv[2]
if (!app) {
  console.error('usage: node cluster-primary.js <app.js> [workers]')
  process.exit(2)
}
const count = Number(process.argv[3]) || (os.availableParallelism?.() ?? os.cpus().length)
let stopping = false

const note = (event, fields) => console.log(JSON.stringify({ event, t: Date.now(), ...fields }))

cluster.setupPrimary({ exec: path.resolve(app) })
cluster.on('exit', (worker, code, signal) => {
  note('worker-exit', { pid: worker.process.pid, code, signal })
  if (stopping) {
    if (Object.keys(cluster.workers).length === 0) process.exit(0)
    return
  }
  const next = cluster.fork()
  note('worker-respawn', { pid: next.process.pid, replaces: worker.process.pid })
})
for (let i = 0; i < count; i++) cluster.fork()
note('primary-started', { pid: process.pid, workers: count })

// On SIGTERM, stop the workers ourselves: a worker spinning in `while (true)` would never see the
// IPC channel close and would outlive the primary. SIGKILL after 2 s for the ones that don't go.
function shutdown() {
  if (stopping) return
  stopping = true
  const workers = Object.values(cluster.workers)
  if (workers.length === 0) process.exit(0)
  for (const w of workers) w.process.kill('SIGTERM')
  setTimeout(() => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGKILL')
    setTimeout(() => process.exit(0), 500).unref()
  }, 2000).unref()
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

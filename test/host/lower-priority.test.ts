import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'

/** The nice value of the calling thread (field 19 of /proc/thread-self/stat, after the command name). */
const NICE = `(${(() => {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
}).toString()})()`

test('a worker thread lowers its own priority to nice 19; the rest of the process keeps its own', { skip: process.platform !== 'linux' && 'nice values are per thread on Linux only' }, async () => {
  const module = new URL('../../src/host/lower-priority.js', import.meta.url).href
  const worker = new Worker(
    `import { parentPort } from 'node:worker_threads'
     import { readFileSync } from 'node:fs'
     const { lowerPriority } = await import(${JSON.stringify(module)})
     const before = ${NICE}
     const lowered = lowerPriority()
     parentPort.postMessage({ before, lowered, after: ${NICE} })`,
    { eval: true, type: 'module' } as never,
  )
  const [result] = (await new Promise((resolve, reject) => {
    worker.once('message', (m) => resolve([m]))
    worker.once('error', reject)
  })) as [{ before: number; lowered: boolean; after: number }]
  await worker.terminate()
  const mainNice = new Function('readFileSync', `return ${NICE}`)(readFileSync) as number
  assert.equal(result.lowered, true)
  assert.equal(result.after, 19)
  assert.equal(mainNice, result.before, 'the main thread is untouched')
})

import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, watch } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { connect, type WsClient } from './ws-client.js'

let server: CrashlessProcess
let dir: string
let client: WsClient | null = null

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crashless-reoffer-'))
  server = await startCrashless(fixture('upgrade/ws-echo.mjs'), ['--instances', '1'], { env: { BLOCK_MARKER: join(dir, 'blocked') } })
})
after(async () => {
  client?.ws.terminate()
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Resolves once the app has written `name` in `dir` (it cannot answer anything while blocked). */
function fileWritten(name: string, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir)
    const done = (err?: Error): void => {
      clearTimeout(timer)
      watcher.close()
      if (err) reject(err)
      else resolve()
    }
    const timer = setTimeout(() => done(new Error(`${name} was not written within ${timeoutMs} ms`)), timeoutMs)
    watcher.on('change', (_event, file) => {
      if (file === name) done()
    })
    if (existsSync(join(dir, name))) done()
  })
}

test('an upgrade offered to an instance that dies before answering is offered to its replacement', async () => {
  // The only active instance blocks its event loop for good; the upgrade is offered to it and
  // waits unanswered until the lease ends the instance.
  const written = fileWritten('blocked')
  const blocked = fetch(`${server.url}/block`, { method: 'POST' })
  await written
  client = await connect(`ws://127.0.0.1:${server.port}/late`)
  assert.match(String(await client.next()), /^welcome \d+ \/late /)
  assert.equal(await client.ask('made it'), 'made it')

  const lost = await server.waitForLog((l) => l.event === 'connections-lost')
  assert.equal(lost.reason, 'lease-expired')
  assert.equal(lost.reoffered, 1)
  assert.equal(lost.closed, 0)
  // The blocking POST fails (blamed on it, or not safe to re-run): that is not the upgrade's doing.
  const status = (await blocked).status
  assert.ok(status === 500 || status === 502, `the blocking request got ${status}`)
  assert.equal(lost.culprit, null, 'the connection is not blamed for the block')
})

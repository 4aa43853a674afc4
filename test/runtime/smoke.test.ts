import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'

let server: CrashlessProcess

before(async () => {
  server = await startCrashless(fixture('hello-listen.mjs'), ['--instances', '2'])
})
after(async () => {
  await server?.stop()
})

test('serves an unmodified listen() script on the port crashless chose', async () => {
  const res = await fetch(`${server.url}/hi?x=1`)
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'hello GET /hi?x=1')
})

test('SIGTERM drains and exits 0', async () => {
  const code = await server.stop()
  assert.equal(code, 0)
  assert.ok(server.logs.some((l) => l.event === 'stopped'))
})

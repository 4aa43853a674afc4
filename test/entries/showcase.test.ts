/**
 * The showcase (examples/showcase/app.ts), started as a new user starts it: its page says which
 * instance served it (it once said "Served by thread ?"), in both isolation modes, and its
 * benign route answers.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { repoRoot, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'

const SHOWCASE = `${repoRoot}examples/showcase/app.ts`
const started: CrashlessProcess[] = []

after(async () => {
  for (const server of started.splice(0)) await server.stop()
})

async function page(server: CrashlessProcess): Promise<string> {
  const res = await fetch(`${server.url}/`)
  assert.equal(res.status, 200)
  return res.text()
}

test('under worker isolation the page names the worker thread and the runtime process that served it', async () => {
  const server = await startCrashless(SHOWCASE, ['--instances', '1'])
  started.push(server)
  const html = await page(server)
  assert.match(html, new RegExp(`Served by worker thread \\d+ of process ${server.runtimePid};`))
  assert.doesNotMatch(html, /thread \?/)
  const ok = (await (await fetch(`${server.url}/ok`)).json()) as { ok: boolean; pid: number }
  assert.deepEqual([ok.ok, ok.pid], [true, server.runtimePid])
})

test("under isolation: 'process' the page names the instance's own process", async () => {
  const server = await startCrashless(SHOWCASE, ['--instances', '1', '--isolation', 'process'])
  started.push(server)
  const html = await page(server)
  const pid = Number(/Served by process (\d+);/.exec(html)?.[1])
  assert.ok(Number.isInteger(pid) && pid > 0, html)
  assert.notEqual(pid, server.runtimePid, 'an instance process, not the runtime')
})

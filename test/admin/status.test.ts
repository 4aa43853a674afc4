/**
 * `crashless status` and the paged immunity listing against a real crashless: the table of
 * instances (like `pm2 ls`), its JSON, and `GET /immunity?limit=&after=` walked page by page.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, runCli, startIn, tempDir } from './run-cli.js'

let server: CrashlessProcess & { adminUrl: string }

before(async () => {
  // No ladder and a high threshold: each crashing request leaves one failure record at once.
  server = await startIn(tempDir(), { admin: { port: 0 }, immunity: { store: 'memory', threshold: 100 }, recovery: { ladder: [] } })
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

interface Report {
  pid: number
  instances: { id: string; role: string; state: string; served: number; recoveries: number; heapMb: number }[]
  recoveries: Record<string, number>
}

test('crashless status shows each instance: role, state, uptime, served, in flight, recoveries, heap', async () => {
  for (let i = 0; i < 6; i++) await (await fetch(`${server.url}/ok?tag=${i}`)).text()
  const table = await runCli(['status', '--admin', server.adminUrl])
  assert.equal(table.code, 0, table.stderr)
  const [header, ...rows] = table.stdout.trimEnd().split('\n')
  assert.match(header!, /^ID\s+ROLE\s+STATE\s+UPTIME\s+SERVED\s+IN FLIGHT\s+RECOVERIES\s+HEAP MB$/)
  assert.equal(rows.filter((r) => /^i\d+\s+serving\s+ready\s/.test(r)).length, 2, table.stdout)
  assert.equal(rows.filter((r) => /^i\d+\s+spare\s+ready\s/.test(r)).length, 1, table.stdout)
  assert.match(rows[rows.length - 1]!, new RegExp(`^runtime ${server.runtimePid} up \\d+`))

  const json = await runCli(['status', '--admin', server.adminUrl, '--json'])
  assert.equal(json.code, 0, json.stderr)
  const report = JSON.parse(json.stdout) as Report
  assert.equal(report.pid, server.runtimePid)
  const serving = report.instances.filter((i) => i.role === 'serving')
  assert.equal(serving.reduce((n, i) => n + i.served, 0), 6)
  for (const instance of report.instances) assert.ok(instance.heapMb > 0)
})

test('a suppressed crash shows in the instance\'s recoveries and the runtime\'s', async () => {
  assert.equal((await fetch(`${server.url}/fault/throw?v=status`)).status, 500)
  const json = await runCli(['status', '--admin', server.adminUrl, '--json'])
  const report = JSON.parse(json.stdout) as Report
  assert.equal(report.recoveries.suppressed, 1)
  // The instance it crashed in finishes and leaves; whichever still shows carries it.
  const table = await runCli(['status', '--admin', server.adminUrl])
  assert.match(table.stdout, /recoveries: suppressed 1/)
})

test('GET /immunity comes in pages in signature order, with a cursor; crashless immunity ls puts them together', async () => {
  for (let i = 0; i < 4; i++) assert.equal((await fetch(`${server.url}/fault/throw?v=page-${i}`)).status, 500)
  const seen: string[] = []
  let after: string | null = null
  let pages = 0
  do {
    const url: string = `${server.adminUrl}/immunity?limit=2${after === null ? '' : `&after=${encodeURIComponent(after)}`}`
    const body = (await (await fetch(url)).json()) as { entries: { signature: string }[]; next: string | null }
    assert.ok(body.entries.length <= 2)
    seen.push(...body.entries.map((e) => e.signature))
    after = body.next
    pages++
  } while (after !== null && pages < 10)
  assert.equal(seen.length, 5, seen.join(', '))
  assert.equal(pages, 3)
  assert.deepEqual(seen, [...seen].sort())
  const listed = await runCli(['immunity', 'ls', '--admin', server.adminUrl, '--json'])
  assert.equal(listed.code, 0, listed.stderr)
  assert.deepEqual((JSON.parse(listed.stdout) as { signature: string }[]).map((e) => e.signature).sort(), seen)
})

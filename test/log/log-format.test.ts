/**
 * Logs of a real crashless: refused quarantined requests fold into one line per signature per
 * interval (with a count), and `--log-format pretty` prints one readable line per event.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { assertCrashlessError, eventsSince, send, startWithConfig, stopAll } from '../faults/harness.js'
import { fixture, repoRoot } from '../helpers/crashless-process.js'

after(stopAll)

test('a flood of a quarantined request writes the first refusal, then one line with the count', async () => {
  const server = await startWithConfig({ instances: 2, immunity: { threshold: 2, quarantineMs: 60_000 }, recovery: { ladder: [] } })
  assertCrashlessError(await send(`${server.url}/fault/throw?flood=1`), 500, 'CRASHLESS_ERR_HANDLER')
  assertCrashlessError(await send(`${server.url}/fault/throw?flood=1`), 500, 'CRASHLESS_ERR_HANDLER')
  await server.waitForLog((l) => l.event === 'quarantined', 5_000)
  const from = server.logs.length
  const REFUSED = 300
  for (let sent = 0; sent < REFUSED; sent += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, () => send(`${server.url}/fault/throw?flood=1`)))
    for (const answer of batch) assertCrashlessError(answer, 500, 'CRASHLESS_ERR_QUARANTINED')
  }
  const summary = await server.waitForLog((l) => l.event === 'quarantine-hit' && l.aggregated === true, 10_000)
  assert.equal(summary.signature, 'GET /fault/throw?flood=1 #-')
  const hits = eventsSince(server, from, 'quarantine-hit')
  assert.equal(hits.length, 2, hits.map((l) => JSON.stringify(l)).join('\n'))
  assert.equal(typeof hits[0]!.requestId, 'string')
  assert.equal(summary.count, REFUSED - 1)
})

test('--log-format pretty writes one readable line per event, not JSON', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'crashless-log-'))
  const child = spawn(process.execPath, [`${repoRoot}bin/crashless.js`, 'run', fixture('faults-app.mjs'), '--port', '0', '--admin-port', '0', '--instances', '1', '--log-format', 'pretty'], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '' } })
  let out = ''
  try {
    const listening = new Promise<RegExpExecArray>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk
        const match = /^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening {2}.*port=(\d+)/m.exec(out)
        if (match) resolve(match)
      })
      child.once('exit', (code) => reject(new Error(`crashless exited (${code}) before listening:\n${out}`)))
    })
    const port = Number((await listening)[1])
    assert.equal((await fetch(`http://127.0.0.1:${port}/fault/throw?pretty=1`)).status, 500)
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (/WARN {2}request-crashed {2}request crashed in i\d+ .*→ /.test(out)) {
          child.stdout.off('data', check)
          resolve()
        }
      }
      child.stdout.on('data', check)
      check()
    })
    for (const line of out.trimEnd().split('\n')) assert.doesNotMatch(line, /^\{/, `a JSON line in pretty mode: ${line}`)
  } finally {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await once(child, 'exit')
    clearTimeout(timer)
    rmSync(cwd, { recursive: true, force: true })
  }
})

// Invalid configuration is reported before anything starts: non-zero exit, and stderr names
// the flag or the option path that is wrong.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fixture, runCrashlessToExit } from '../helpers/crashless-process.js'

const entry = fixture('entries/plain-http.mjs')
let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crashless-config-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

test('--instances abc is a usage error naming the flag', async () => {
  const { code, stdout, stderr } = await runCrashlessToExit(['run', entry, '--port', '0', '--instances', 'abc'])
  assert.equal(code, 2, stderr)
  assert.match(stderr, /--instances expects a number, got "abc"/)
  assert.doesNotMatch(stdout, /"event":"listening"/)
})

test('--instances 0 is a config error naming the option', async () => {
  const { code, stdout, stderr } = await runCrashlessToExit(['run', entry, '--port', '0', '--instances', '0'])
  assert.equal(code, 1, stderr)
  assert.match(stderr, /instances: expected a positive integer, got 0 \(from command line\)/)
  assert.doesNotMatch(stdout, /"event":"listening"/)
})

test('an unknown option in a config file names its path and the file', async () => {
  const file = join(dir, 'crashless.config.mjs')
  await writeFile(file, 'export default { instances: 2, timeouts: { startMS: 800 } }\n')
  const { code, stdout, stderr } = await runCrashlessToExit(['run', entry, '--port', '0', '--config', file])
  assert.equal(code, 1, stderr)
  assert.match(stderr, /timeouts\.startMS: unknown option/)
  assert.match(stderr, /did you mean timeouts\.startMs\?/)
  assert.ok(stderr.includes(file), stderr)
  assert.doesNotMatch(stdout, /"event":"listening"/)
})

test('a port already in use is reported, and crashless exits instead of lingering', async () => {
  const holder = createServer().listen(0)
  await once(holder, 'listening')
  const { port } = holder.address() as { port: number }
  try {
    const startedAt = performance.now()
    const { code, stdout, stderr } = await runCrashlessToExit(['run', entry, '--port', String(port), '--instances', '2'], { timeoutMs: 20_000 })
    assert.equal(code, 1, stderr)
    assert.ok(performance.now() - startedAt < 10_000, 'exits promptly once the bind fails')
    assert.match(stderr, new RegExp(`port: cannot listen on port ${port}: .*EADDRINUSE`))
    assert.doesNotMatch(stdout, /"event":"listening"/)
  } finally {
    await new Promise((resolve) => holder.close(resolve))
  }
})

// A module that cannot become an app must stop crashless at once: exit 1, one line on stderr
// naming the file and the reason, nothing bound, and no respawn loop.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fixture, runCrashlessToExit } from '../helpers/crashless-process.js'
import { freePort } from './route-checks.js'

/** Instances started at once with `--instances 2` (one warm spare). */
const FIRST_INSTANCES = 3
/** Well under the 10 s default start timeout, and far under a respawn loop's lifetime. */
const QUICK_EXIT_MS = 8000

let dir: string
let shortStartConfig: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crashless-broken-'))
  shortStartConfig = join(dir, 'crashless.config.mjs')
  await writeFile(shortStartConfig, 'export default { timeouts: { startMs: 800 } }\n')
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function runBroken(file: string, extraArgs: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string; elapsedMs: number; port: number; path: string }> {
  const path = fixture(`entries/broken/${file}`)
  const port = await freePort()
  const startedAt = performance.now()
  const result = await runCrashlessToExit(['run', path, '--port', String(port), '--instances', '2', ...extraArgs], { timeoutMs: 30_000 })
  return { ...result, elapsedMs: performance.now() - startedAt, port, path }
}

/** Exit 1, quickly, with no `listening` line, a bounded number of attempts, and the port free. */
async function assertFailedCleanly(run: Awaited<ReturnType<typeof runBroken>>): Promise<void> {
  const context = `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`
  assert.equal(run.code, 1, context)
  assert.ok(run.elapsedMs < QUICK_EXIT_MS, `took ${Math.round(run.elapsedMs)} ms; ${context}`)
  assert.ok(run.stderr.includes(`cannot load app ${run.path}`), `stderr names the file; ${context}`)
  assert.doesNotMatch(run.stdout, /"event":"listening"/)
  // A respawn loop logs an instance loss per attempt (hundreds before the fix); a single
  // round of starts with a few replacements in flight stays far below this.
  const losses = run.stdout.split('\n').filter((l) => l.includes('"event":"instance-lost"')).length
  assert.ok(losses <= FIRST_INSTANCES * 3, `${losses} instance losses logged; ${context}`)
  assert.doesNotMatch(run.stderr, /EADDRINUSE|EACCES/, 'it never tried to bind')
  // Connecting rather than binding: a port released by a test can be reused at any moment as
  // the local end of an outgoing connection, which makes a bind check flaky, not a connect.
  const socket = connect(run.port, '127.0.0.1')
  const [err] = (await once(socket, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException]
  socket.destroy()
  assert.equal(err.code, 'ECONNREFUSED', `port ${run.port}: nothing must be listening`)
}

test('a JavaScript syntax error names the file, the message and the line', async () => {
  const run = await runBroken('syntax-error.mjs')
  await assertFailedCleanly(run)
  assert.match(run.stderr, /SyntaxError: Unexpected end of input/)
  assert.ok(run.stderr.includes('syntax-error.mjs:6'), run.stderr)
})

test('a TypeScript syntax error names the file, the message and the line', async () => {
  const run = await runBroken('syntax-error.ts')
  await assertFailedCleanly(run)
  assert.ok(run.stderr.includes('syntax-error.ts:7:14'), run.stderr)
  assert.match(run.stderr, /Unexpected "="/)
})

test('an error thrown at import names the message and where it was thrown', async () => {
  const run = await runBroken('throws-at-import.mjs')
  await assertFailedCleanly(run)
  assert.match(run.stderr, /Error: FIXTURE_DATABASE_URL is not set: refusing to start/)
  assert.ok(run.stderr.includes('throws-at-import.mjs:3'), run.stderr)
})

test('a module that exports nothing and never listens fails after timeouts.startMs', async () => {
  const run = await runBroken('no-export.mjs', ['--config', shortStartConfig])
  await assertFailedCleanly(run)
  assert.match(run.stderr, /it exports nothing/)
  assert.match(run.stderr, /did not call listen\(\) within 800 ms/)
})

test('a default export that is a number is rejected without waiting for listen()', async () => {
  const run = await runBroken('bad-export.mjs')
  await assertFailedCleanly(run)
  assert.match(run.stderr, /default export is a number \(42\)/)
  // The default start timeout is 10 s: failing well before it proves there was no wait.
  assert.ok(run.elapsedMs < 5000, `took ${Math.round(run.elapsedMs)} ms`)
})

test('an entry that does not exist says so', async () => {
  const run = await runBroken('missing-file.mjs')
  await assertFailedCleanly(run)
  assert.match(run.stderr, /the file does not exist/)
  assert.doesNotMatch(run.stderr, /imported from/, 'does not blame crashless internals')
})

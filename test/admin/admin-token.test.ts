/**
 * Admin authentication: a configured token is enforced on every route (even on loopback),
 * compared as a whole; an admin endpoint beyond loopback without a token is a config error.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fixture, runCrashlessToExit, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { freePort } from '../helpers/redis-server.js'
import { removeTempDirs, runCli, startIn, tempDir, writeConfig } from './run-cli.js'

const TOKEN = 'test-admin-token-0123456789'
let server: CrashlessProcess & { adminUrl: string }

before(async () => {
  server = await startIn(tempDir(), { admin: { port: 0, token: TOKEN }, immunity: { store: 'memory' } })
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

async function status(path: string, authorization?: string): Promise<{ status: number; body: string; challenge: string | null }> {
  const res = await fetch(`${server.adminUrl}${path}`, { headers: authorization === undefined ? {} : { authorization }, signal: AbortSignal.timeout(5_000) })
  return { status: res.status, body: await res.text(), challenge: res.headers.get('www-authenticate') }
}

test('admin-listening says a token is required', () => {
  assert.equal(server.logs.find((l) => l.event === 'admin-listening')?.token, true)
})

test('every route answers 401 without the token, or with a wrong one', async () => {
  for (const path of ['/health', '/immunity', '/nope']) {
    const none = await status(path)
    assert.equal(none.status, 401, `${path} without a token`)
    assert.equal((JSON.parse(none.body) as { error: { code: string } }).error.code, 'CRASHLESS_ERR_UNAUTHORIZED')
    assert.match(none.challenge ?? '', /^Bearer/)
  }
  assert.equal((await status('/immunity', `Bearer ${TOKEN}x`)).status, 401, 'a longer token')
  assert.equal((await status('/immunity', `Bearer ${TOKEN.slice(0, -1)}`)).status, 401, 'a prefix of the token')
  assert.equal((await status('/immunity', TOKEN)).status, 401, 'no Bearer scheme')
  assert.equal((await status('/immunity', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`)).status, 401, 'another scheme')
  // Log lines arrive through a pipe, possibly after the answers.
  const count = () => server.logs.filter((l) => l.event === 'admin-refused').length
  await server.waitForLog((l) => l.event === 'admin-refused' && count() >= 7, 5_000)
  const refused = server.logs.filter((l) => l.event === 'admin-refused')
  assert.deepEqual(refused.map((l) => l.status), [401, 401, 401, 401, 401, 401, 401])
  assert.ok(!JSON.stringify(refused).includes(TOKEN.slice(0, 10)), 'tokens are never logged')
})

test('the right token is let in', async () => {
  const ok = await status('/immunity', `Bearer ${TOKEN}`)
  assert.equal(ok.status, 200)
  assert.deepEqual(JSON.parse(ok.body), { entries: [], next: null })
  assert.equal((await status('/health', `bearer ${TOKEN}`)).status, 200, 'the scheme is case-insensitive')
})

test('the CLI says "bad or missing token" without it, and works with --token or $CRASHLESS_ADMIN_TOKEN', async () => {
  const missing = await runCli(['immunity', 'ls', '--admin', server.adminUrl])
  assert.equal(missing.code, 1, missing.stderr)
  assert.match(missing.stderr, /bad or missing token/)
  const wrong = await runCli(['immunity', 'ls', '--admin', server.adminUrl, '--token', 'not-the-right-token-at-all'])
  assert.equal(wrong.code, 1)
  assert.match(wrong.stderr, /bad or missing token/)

  const flag = await runCli(['immunity', 'ls', '--admin', server.adminUrl, '--token', TOKEN])
  assert.equal(flag.code, 0, flag.stderr)
  assert.match(flag.stdout, /immunity table is empty/)
  const env = await runCli(['immunity', 'ls', '--admin', server.adminUrl, '--json'], { env: { CRASHLESS_ADMIN_TOKEN: TOKEN } })
  assert.equal(env.code, 0, env.stderr)
  assert.deepEqual(JSON.parse(env.stdout), [])
})

test('the CLI finds the admin URL and token in the config file, which needs no entry', async () => {
  const dir = tempDir()
  writeConfig(dir, { entry: null, admin: { port: Number(new URL(server.adminUrl).port), token: TOKEN } })
  const found = await runCli(['immunity', 'ls'], { cwd: dir })
  assert.equal(found.code, 0, found.stderr)
  assert.match(found.stdout, /immunity table is empty/)
})

test('a non-loopback admin host without a token is a config error naming admin.token', async () => {
  const dir = tempDir()
  const file = writeConfig(dir, { admin: { host: '0.0.0.0', port: 0 } })
  const result = await runCrashlessToExit(['run', '--config', file, '--port', '0'], { cwd: dir })
  assert.equal(result.code, 1, result.stdout + result.stderr)
  assert.match(result.stderr, /invalid config: admin\.token: required when admin\.host is not a loopback address/)
  assert.doesNotMatch(result.stdout, /"event":"listening"/)
})

test('a token too short to be a secret is refused, without echoing it', async () => {
  const dir = tempDir()
  const file = writeConfig(dir, { admin: { token: 'hunter2' } })
  const result = await runCrashlessToExit(['run', '--config', file, '--port', '0'], { cwd: dir })
  assert.equal(result.code, 1)
  assert.match(result.stderr, /invalid config: admin\.token: expected a token of at least 16/)
  assert.doesNotMatch(result.stderr, /hunter2/)
})

test('an admin endpoint nobody listens on: the CLI says so and how to enable it', async () => {
  const port = await freePort()
  const result = await runCli(['immunity', 'ls', '--admin', `http://127.0.0.1:${port}`])
  assert.equal(result.code, 1)
  assert.ok(result.stderr.includes(`cannot reach the crashless admin endpoint at http://127.0.0.1:${port} (ECONNREFUSED)`), result.stderr)
  assert.match(result.stderr, /admin\.enabled, admin\.host, admin\.port/)
})

test('$CRASHLESS_ADMIN_TOKEN protects a server started without a config file, as the CLI expects', async () => {
  const plain = await startCrashless(fixture('faults-app.mjs'), ['--instances', '1'], { env: { CRASHLESS_ADMIN_TOKEN: TOKEN }, cwd: tempDir() })
  try {
    const listening = await plain.waitForLog((l) => l.event === 'admin-listening', 5_000)
    assert.equal(listening.token, true)
    const adminUrl = `http://127.0.0.1:${listening.port as number}`
    const none = await fetch(`${adminUrl}/health`, { signal: AbortSignal.timeout(5_000) })
    assert.equal(none.status, 401)
    const withToken = await fetch(`${adminUrl}/health`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5_000) })
    assert.equal(withToken.status, 200)
    // The CLI, given the same variable, gets in.
    const cli = await runCli(['status', '--admin', adminUrl, '--json'], { env: { CRASHLESS_ADMIN_TOKEN: TOKEN } })
    assert.equal(cli.code, 0, cli.stderr)
  } finally {
    await plain.stop()
  }
})

test('a $CRASHLESS_ADMIN_TOKEN too short to be a token stops crashless, naming admin.token and the variable', async () => {
  const { code, stderr } = await runCli(['run', fixture('faults-app.mjs'), '--port', '0', '--admin-port', '0', '--no-keeper'], { env: { CRASHLESS_ADMIN_TOKEN: 'tiny-secret' } })
  assert.equal(code, 1)
  assert.match(stderr, /admin\.token: expected a token of at least 16 visible ASCII characters.*\$CRASHLESS_ADMIN_TOKEN/)
  assert.ok(!stderr.includes('tiny-secret'), 'the rejected value is not echoed')
})

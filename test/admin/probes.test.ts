/**
 * Health probes with Kubernetes semantics: `/livez` and `/readyz` on the admin port, and under
 * `probes.path` on the service port, answered by crashless itself; ready turns false while the
 * runtime drains, and while a component has no ready instance.
 */
import assert from 'node:assert/strict'
import { unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fixture, type CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, startIn, tempDir } from './run-cli.js'

let server: CrashlessProcess & { adminUrl: string }

before(async () => {
  server = await startIn(tempDir(), { admin: { port: 0 }, immunity: { store: 'memory' }, probes: { path: '/.crashless' } }, ['--instances', '2', '--no-keeper'])
})

after(async () => {
  await server?.stop()
  removeTempDirs()
})

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) })
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = null
  }
  return { status: res.status, json, text }
}

test('the admin port answers /livez and /readyz with 200 and the checks behind them', async () => {
  const live = await get(`${server.adminUrl}/livez`)
  assert.equal(live.status, 200)
  assert.equal((live.json as { status: string }).status, 'ok')
  const ready = await get(`${server.adminUrl}/readyz`)
  assert.equal(ready.status, 200)
  assert.deepEqual(Object.keys((ready.json as { checks: object }).checks).sort(), ['draining', 'instances'])
  assert.equal((await get(`${server.adminUrl}/readyz`, { method: 'POST' })).status, 405)
})

test('probes.path answers on the service port without reaching the app; other paths are the app\'s', async () => {
  const ready = await get(`${server.url}/.crashless/readyz`)
  assert.equal(ready.status, 200)
  assert.equal((ready.json as { status: string }).status, 'ok')
  assert.equal((await get(`${server.url}/.crashless/livez?verbose`)).status, 200)
  // The app's own answer for what is not a probe.
  assert.equal((await get(`${server.url}/ok?tag=probe`)).text, 'ok probe')
  const beside = await get(`${server.url}/.crashless/readyzz`)
  assert.equal((beside.json as { checks?: unknown } | null)?.checks, undefined, 'not answered as a probe')
})

test('while the runtime drains, /readyz says 503 (draining) and /livez stays 200', async () => {
  // A slow request keeps the drain going while the probes are asked.
  const slow = fetch(`${server.url}/slow?ms=3000&tag=drain`).then((r) => r.text())
  // Wait until the slow request is in flight: /health counts it.
  for (let i = 0; ; i++) {
    const health = await get(`${server.adminUrl}/health`)
    if ((health.json as { pending: number }).pending > 0) break
    assert.ok(i < 200, 'the slow request never showed as pending')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  server.child.kill('SIGTERM')
  let ready: Awaited<ReturnType<typeof get>>
  for (let i = 0; ; i++) {
    ready = await get(`${server.adminUrl}/readyz`)
    if (ready.status === 503) break
    assert.ok(i < 200, `readyz never turned 503: ${ready.text}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  assert.equal((ready.json as { checks: { draining: { ok: boolean } } }).checks.draining.ok, false)
  assert.equal((await get(`${server.adminUrl}/livez`)).status, 200)
  assert.equal(await slow, 'slow drain')
})

test('with components, /readyz is 503 while one of them has no ready instance, and names it', async () => {
  const dir = tempDir()
  const split = await startIn(dir, { admin: { port: 0 }, immunity: { store: 'memory' }, components: { bids: { prefix: '/bids', entry: fixture('hold-app.mjs'), instances: 1, spares: 0 } } }, ['--instances', '1', '--no-keeper'])
  try {
    const ready = await get(`${split.adminUrl}/readyz`)
    assert.equal(ready.status, 200, ready.text)
    assert.equal((ready.json as { checks: { components: { ok: boolean } } }).checks.components.ok, true)
    // bids' one instance ends; its replacement waits before it listens: bids has none ready.
    writeFileSync(join(dir, 'hold-start'), '')
    assert.equal((await get(`${split.url}/bids/exit`)).text, 'bye')
    let held: Awaited<ReturnType<typeof get>>
    for (let i = 0; ; i++) {
      held = await get(`${split.adminUrl}/readyz`)
      if (held.status === 503) break
      assert.ok(i < 500, `readyz never turned 503: ${held.text}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const checks = (held.json as { checks: Record<string, { ok: boolean; detail: string }> }).checks
    assert.equal(checks.components!.ok, false)
    assert.match(checks.components!.detail, /none ready in bids/)
    assert.equal(checks.instances!.ok, true, 'the default component still serves')
    assert.equal((await get(`${split.url}/ok?tag=beside`)).text, 'ok beside')
    assert.equal((await get(`${split.adminUrl}/livez`)).status, 200)
    // The replacement listens: ready again.
    unlinkSync(join(dir, 'hold-start'))
    for (let i = 0; ; i++) {
      const again = await get(`${split.adminUrl}/readyz`)
      if (again.status === 200) break
      assert.ok(i < 500, `readyz never turned 200 again: ${again.text}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  } finally {
    await split.stop()
  }
})

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) against a real
 * crashless: live instances, a fault's recovery on the timeline, the quarantine it leads to,
 * released by a click; attacker-chosen text rendered as text; forged requests from other
 * origins refused. Set CRASHLESS_DASHBOARD_SCREENSHOT=<file.png> to keep a screenshot.
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, startIn, tempDir } from './run-cli.js'

let server: CrashlessProcess & { adminUrl: string }
let browser: Browser
let page: Page

before(async () => {
  // One ladder rung: a crashing request is re-run once on a fresh instance, then judged poison.
  server = await startIn(tempDir(), { admin: { port: 0 }, immunity: { store: 'memory' }, recovery: { ladder: ['fresh'] } })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
})

after(async () => {
  await browser?.close()
  await server?.stop()
  removeTempDirs()
})

/** The `error.code` of a crashless error answer. */
async function errorCode(url: string): Promise<string> {
  const res = await fetch(url)
  const body = (await res.json()) as { error: { code: string } }
  assert.equal(res.status, 500)
  return body.error.code
}

/** GET of a raw request target (fetch would percent-encode what an attacker would not). */
function rawGet(base: string, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { path: target }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
    req.on('error', reject)
    req.end()
  })
}

test('the dashboard shows the instances live, a fault on the timeline and in the incidents, and releases its quarantine by a click', async () => {
  await page.goto(server.adminUrl)
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 })
  await page.locator('#instances tbody tr[data-role="serving"]').nth(1).waitFor({ timeout: 10_000 })
  assert.equal(await page.locator('#instances tbody tr[data-role="serving"]').count(), 2)

  // Fails on its instance, then again alone on a fresh one: poison, quarantined, an incident.
  assert.equal(await errorCode(`${server.url}/fault/throw?dash=1`), 'CRASHLESS_ERR_POISON')
  assert.equal(await errorCode(`${server.url}/fault/throw?dash=1`), 'CRASHLESS_ERR_QUARANTINED')
  await page.locator('#timeline li[data-event="request-crashed"]').first().waitFor({ timeout: 10_000 })
  await page.locator('#timeline li[data-event="quarantined"]').first().waitFor({ timeout: 10_000 })
  const quarantined = page.locator('#immunity tbody tr[data-status="quarantined"]', { hasText: '/fault/throw' })
  await quarantined.waitFor({ timeout: 10_000 })
  await page.locator('#incidents tbody tr', { hasText: '/fault/throw?dash=1' }).waitFor({ timeout: 10_000 })
  assert.match(await page.locator('#incidents tbody tr').first().innerText(), /poison/)
  assert.equal(await page.locator('#totals [data-key="quarantines"] dd').innerText(), '1')

  const screenshot = process.env.CRASHLESS_DASHBOARD_SCREENSHOT
  if (screenshot) await page.screenshot({ path: screenshot })

  const signature = await quarantined.locator('td.sig').innerText()
  await quarantined.locator('button', { hasText: 'release' }).click()
  await page.locator('#notice', { hasText: 'released' }).waitFor({ timeout: 5_000 })
  const listed = (await (await fetch(`${server.adminUrl}/immunity`)).json()) as { entries: { signature: string }[] }
  assert.ok(!listed.entries.some((e) => e.signature === signature), `still listed: ${signature}`)
  // Released: the request runs again (and is judged again) instead of being refused unrun.
  assert.equal(await errorCode(`${server.url}/fault/throw?dash=1`), 'CRASHLESS_ERR_POISON')
})

test('text a client chose (URLs, signatures) is shown as text, never run as markup', async () => {
  await page.goto(server.adminUrl)
  const probe = '/fault/throw?x=<img/src=x/onerror=window.pwned=1>'
  assert.equal(await rawGet(server.url, probe), 500)
  const entry = page.locator('#timeline li[data-event="request-crashed"]', { hasText: '<img/src=x/onerror=window.pwned=1>' })
  await entry.first().waitFor({ timeout: 10_000 })
  assert.equal(await page.locator('img').count(), 0)
  assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined)
})

test('a page of another origin cannot make the browser change anything', async () => {
  // The service's own port is another origin than the admin endpoint's.
  await page.goto(`${server.url}/ok`)
  const refused = await page.evaluate(async (admin) => {
    const res = await fetch(`${admin}/immunity/${encodeURIComponent('GET /ok #-')}`, { method: 'DELETE' }).catch((err: Error) => err.message)
    return typeof res === 'string' ? res : res.status
  }, server.adminUrl)
  // DELETE needs a CORS preflight, which the endpoint never grants: the request fails in the browser.
  assert.equal(typeof refused, 'string')
  // A form post needs no preflight: the endpoint itself must refuse it.
  // (A string: this test's TypeScript has no DOM types; the page's own document runs it.)
  await page.evaluate(`(() => {
    const form = document.createElement('form')
    form.method = 'POST'
    form.action = ${JSON.stringify(`${server.adminUrl}/reload`)}
    document.body.append(form)
    form.submit()
  })()`)
  await page.waitForURL(`${server.adminUrl}/reload`, { timeout: 10_000 })
  assert.match(await page.locator('body').innerText(), /cross-origin request refused/)
})

test('a change from a browser needs the page token; the CLI (no Origin) is unchanged', async () => {
  const origin = server.adminUrl
  const del = (headers: Record<string, string>) => fetch(`${server.adminUrl}/immunity/${encodeURIComponent('GET /nothing #-')}`, { method: 'DELETE', headers })
  assert.equal((await del({ origin: 'http://evil.example' })).status, 403)
  const noToken = await del({ origin })
  assert.equal(noToken.status, 403)
  assert.match(((await noToken.json()) as { error: { message: string } }).error.message, /page token/)
  assert.equal((await del({ origin, 'x-crashless-page-token': 'guessed' })).status, 403)
  assert.equal((await del({ 'sec-fetch-site': 'cross-site' })).status, 403)
  // What the page sends: its own origin and the token it was served with.
  const html = await (await fetch(`${server.adminUrl}/`)).text()
  const token = /name="crashless-page-token" content="([^"]+)"/.exec(html)![1]!
  assert.equal((await del({ origin, 'x-crashless-page-token': token })).status, 404)
  // The same host served over TLS by a proxy in front is the same page.
  assert.equal((await del({ origin: origin.replace('http:', 'https:'), 'x-crashless-page-token': token })).status, 404)
  assert.equal((await del({ origin: `${origin}.evil.example`, 'x-crashless-page-token': token })).status, 403)
  // No browser headers: what the CLI and curl send.
  assert.equal((await del({})).status, 404)
  // Reads change nothing and another site cannot read them: a link from elsewhere opens the page.
  assert.equal((await fetch(`${server.adminUrl}/`, { headers: { 'sec-fetch-site': 'cross-site' } })).status, 200)
})

test('the live feed is server-sent events of bounded snapshots', async () => {
  const controller = new AbortController()
  const res = await fetch(`${server.adminUrl}/events`, { signal: controller.signal })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type')!, /^text\/event-stream/)
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  while (!text.includes('\n\n')) text += (await reader.read()).value ?? ''
  controller.abort()
  const snapshot = JSON.parse(text.slice(text.indexOf('data: ') + 6, text.indexOf('\n\n'))) as { runtime: { pid: number }; timeline: unknown[]; immunity: { entries: unknown[] } }
  assert.equal(snapshot.runtime.pid, server.runtimePid)
  assert.ok(snapshot.timeline.length <= 60)
  assert.ok(snapshot.immunity.entries.length <= 100)
})

/**
 * The dashboard in a real browser (Debian's chromium, playwright-core) against a real crashless
 * with two components: an instance of `bids` that goes bad is ejected by its health check, and
 * the timeline shows the ejection with its component and rule; an incident whose request failed
 * for good is not styled as cured.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.js'
import { fixture, type CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, startIn, tempDir } from './run-cli.js'

let server: CrashlessProcess & { adminUrl: string }
let browser: Browser
let page: Page

before(async () => {
  server = await startIn(tempDir(), {
    admin: { port: 0 },
    immunity: { store: 'memory' },
    outliers: { suspects: 0 },
    components: { bids: { prefix: '/bids', entry: fixture('bad-answers-app.mjs'), instances: 2, spares: 1, healthCheck: { path: '/bids/health', everyMs: 100 } } },
  })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
})

after(async () => {
  await browser?.close()
  await server?.stop()
  removeTempDirs()
})

test('an ejection in the bids component shows on the timeline with its component and rule', async () => {
  await page.goto(server.adminUrl)
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 })
  await page.locator('#instances tbody tr[data-role="serving"]').nth(3).waitFor({ timeout: 10_000 })
  // One bids instance now answers 500 to everything, its health check included.
  const broke = await fetch(`${server.url}/bids/break`, { method: 'POST' })
  assert.equal(broke.status, 201)
  const line = await server.waitForLog((l) => l.event === 'ejected', 10_000)
  assert.match(String(line.instance), /^bids\//)
  const ejected = page.locator('#timeline li[data-event="ejected"]').first()
  await ejected.waitFor({ timeout: 10_000 })
  const text = await ejected.innerText()
  assert.match(text, /component bids/)
  assert.match(text, /rule health/)
  assert.match(text, new RegExp(`instance ${String(line.instance)}`))
})

test('an incident whose request failed for good is styled as failed, not as cured', async () => {
  // A POST is not re-run: its crash is judged on the spot (verdict `failed`).
  const res = await fetch(`${server.url}/fault/throw?dash=failed`, { method: 'POST' })
  assert.equal(res.status, 500)
  await res.text()
  const row = page.locator('#incidents tbody tr[data-verdict="failed"]', { hasText: '/fault/throw?dash=failed' })
  await row.waitFor({ timeout: 10_000 })
  const verdict = row.locator('td').nth(1)
  assert.match(await verdict.innerText(), /^failed/)
  assert.equal(await verdict.getAttribute('class'), 'status-failed')
  // Run in the page (a string: the tests compile without the DOM's types).
  const colourOf = (className: string): Promise<unknown> =>
    page.evaluate(`(() => { const probe = document.createElement('td'); probe.className = ${JSON.stringify(className)}; document.body.append(probe); const c = getComputedStyle(probe).color; probe.remove(); return c })()`)
  const colour = await colourOf('status-failed')
  const cured = await colourOf('status-cured')
  assert.notEqual(colour, cured, 'failed and cured look different')
})

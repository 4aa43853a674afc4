/**
 * The dashboard of an admin endpoint with a token, in a real browser: the page (which holds no
 * data) loads, asks for the token, refuses a wrong one, and goes live with the right one; the
 * data itself is never served without it.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
import { launchChromium } from '../helpers/browser.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, startIn, tempDir } from './run-cli.js'

const TOKEN = 'dashboard-test-token-0123456789'
let server: CrashlessProcess & { adminUrl: string }
let browser: Browser

before(async () => {
  server = await startIn(tempDir(), { admin: { port: 0, token: TOKEN }, immunity: { store: 'memory' } })
  browser = await launchChromium()
})

after(async () => {
  await browser?.close()
  await server?.stop()
  removeTempDirs()
})

test('without the token the page loads but no data does', async () => {
  assert.equal((await fetch(`${server.adminUrl}/`)).status, 200)
  assert.equal((await fetch(`${server.adminUrl}/events`)).status, 401)
  assert.equal((await fetch(`${server.adminUrl}/instances`)).status, 401)
  assert.equal((await fetch(`${server.adminUrl}/`, { method: 'POST' })).status, 401)
})

test('the page asks for the token, refuses a wrong one, and goes live with the right one', async () => {
  const page = await browser.newPage()
  await page.goto(server.adminUrl)
  await page.locator('#token-form').waitFor({ state: 'visible', timeout: 10_000 })
  await page.fill('#token-input', 'not-the-token-at-all-0000')
  await page.click('#token-form button')
  await page.locator('#token-error', { hasText: 'refused' }).waitFor({ timeout: 10_000 })
  await page.fill('#token-input', TOKEN)
  await page.click('#token-form button')
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 })
  await page.locator('#instances tbody tr[data-role="serving"]').first().waitFor({ timeout: 10_000 })
  assert.equal(await page.locator('#token-form').isHidden(), true)
  await page.close()
})

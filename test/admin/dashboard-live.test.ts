/**
 * The dashboard's live views in a real browser (Debian's chromium, driven by playwright-core),
 * with no reload of the page: requests served move the instances table, a rejuvenation shows on
 * the timeline and swaps the instance in the table, and when the runtime is killed (-9) the page
 * reconnects by itself to the standby the keeper promoted, which shows the death in its totals
 * and timeline.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, startIn, tempDir } from './run-cli.js'

/** An instance is rejuvenated once it has been given this many requests. */
const MAX_REQUESTS = 15

let server: CrashlessProcess & { adminUrl: string }
let browser: Browser
let page: Page

before(async () => {
  server = await startIn(tempDir(), { admin: { port: 0 }, immunity: { store: 'memory' }, rejuvenate: { maxRequests: MAX_REQUESTS } })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
  await page.goto(server.adminUrl)
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 })
})

after(async () => {
  await browser?.close()
  await server?.stop()
  removeTempDirs()
})

async function ok(count: number, tag: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${server.url}/ok?tag=${tag}-${i}`)
    assert.equal(res.status, 200)
    await res.text()
  }
}

/**
 * Resolves once `expression` is true in the page, checked every 100 ms. (page.waitForFunction
 * would evaluate the string with eval, which the dashboard's Content-Security-Policy forbids;
 * page.evaluate goes through the debugging protocol instead.)
 */
async function until(expression: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if ((await page.evaluate(expression)) === true) return
    if (performance.now() > deadline) assert.fail(`still false after ${timeoutMs} ms: ${expression}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Requests served, summed over the instances table's rows (its 7th column). Run in the page. */
const SERVED_IN_TABLE = `[...document.querySelectorAll('#instances tbody tr[data-role]')].reduce((sum, tr) => sum + Number(tr.cells[6].textContent), 0)`

test('requests served show in the instances table as they happen', async () => {
  const before = (await page.evaluate(SERVED_IN_TABLE)) as number
  // Fewer than MAX_REQUESTS per instance: no rejuvenation resets a count here.
  await ok(10, 'served')
  await until(`${SERVED_IN_TABLE} >= ${before + 10}`, 10_000)
})

test('a rejuvenation shows on the timeline and in the totals, and the table swaps the instance', async () => {
  const from = server.logs.length
  await ok(2 * MAX_REQUESTS, 'rejuvenate')
  const line = await server.waitForLog((l) => l.event === 'rejuvenated' && server.logs.indexOf(l) >= from, 10_000)
  assert.equal(line.why, 'requests')
  const retired = line.instance as string
  await page.locator('#timeline li[data-event="rejuvenated"]', { hasText: `instance ${retired}` }).first().waitFor({ timeout: 10_000 })
  await until(`Number(document.querySelector('#totals [data-key="rejuvenations"] dd').textContent) >= 1`, 10_000)
  // Retired, then ended: its row leaves the table, and two serving instances remain.
  await until(
    `![...document.querySelectorAll('#instances tbody tr[data-role]')].some((tr) => tr.cells[0].textContent === ${JSON.stringify(retired)}) && document.querySelectorAll('#instances tbody tr[data-role="serving"]').length === 2`,
    15_000,
  )
})

test('kill -9 of the runtime: the page reconnects to the promoted standby, which shows the death', async () => {
  await server.waitForLog((l) => l.event === 'standby-ready', 20_000)
  const dead = server.runtimePid
  await page.locator('#runtime', { hasText: `runtime ${dead} ` }).waitFor({ timeout: 10_000 })
  process.kill(dead, 'SIGKILL')
  const promoted = await server.waitForLog((l) => l.event === 'runtime-promoted', 20_000)
  const pid = promoted.pid as number
  assert.notEqual(pid, dead)
  await page.locator('#runtime', { hasText: `runtime ${pid} ` }).waitFor({ timeout: 15_000 })
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 })
  await page.locator('#totals [data-key="runtimeDeaths"] dd', { hasText: /^1$/ }).waitFor({ timeout: 10_000 })
  await page.locator('#timeline li[data-event="listening"]', { hasText: 'promoted death' }).waitFor({ timeout: 10_000 })
  await page.locator('#instances tbody tr[data-role="serving"]').nth(1).waitFor({ timeout: 10_000 })
  await ok(1, 'after')
})

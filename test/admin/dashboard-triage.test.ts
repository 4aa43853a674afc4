/**
 * Incidents with their triage (issue 12.3), end to end in a real browser (Debian's chromium,
 * driven by playwright-core) against a real crashless: a faulting route leaves an incident whose
 * dashboard row says "not triaged" and the command to run; the real `crashless triage` CLI, run
 * in another process while the page is open, keeps its report beside the incident, and the row
 * shows its class as a badge, the cure and the confidence without a reload. The admin endpoint,
 * `incidents ls --json` and `incidents show` carry the same triage.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.js'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { removeTempDirs, runCli, startIn, tempDir } from './run-cli.js'

let server: CrashlessProcess & { adminUrl: string }
let dir: string
let browser: Browser
let page: Page

before(async () => {
  dir = tempDir()
  // One ladder rung: a crashing request is re-run once on a fresh instance, then judged poison.
  server = await startIn(dir, { admin: { port: 0 }, immunity: { store: 'memory' }, recovery: { ladder: ['fresh'] } })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
})

after(async () => {
  await browser?.close()
  await server?.stop()
  removeTempDirs()
})

test('a triage run while the dashboard is open shows on its incident row: class badge, cure, confidence', { timeout: 180_000 }, async () => {
  await page.goto(server.adminUrl)
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 })

  const res = await fetch(`${server.url}/fault/throw?triage=1&utm=mail`)
  assert.equal(res.status, 500)
  await res.text()
  const pending = page.locator('#incidents tbody tr', { hasText: '/fault/throw?triage=1' })
  await pending.waitFor({ timeout: 10_000 })
  const id = (await pending.getAttribute('data-id'))!
  assert.match(id, /^inc-/)
  assert.equal(await pending.getAttribute('data-triage'), 'none')
  assert.match(await pending.locator('td.triage').innerText(), new RegExp(`not triaged: crashless triage ${id}`))

  // The real CLI, in the app's folder, as a developer would run it; the crashless keeps serving.
  const out = join(dir, 'regressions')
  const triage = await runCli(['triage', id, '--runs', '2', '--out', out, '--json'], { cwd: dir, timeoutMs: 150_000 })
  assert.equal(triage.code, 0, triage.stdout + triage.stderr)
  const report = JSON.parse(triage.stdout) as { id: string; class: string; cure: string | null; runs: number; agreeing: number; regressionTest: string; triagedAt: string; setup?: unknown }
  assert.equal(report.class, 'deterministic')
  assert.equal(report.cure, null)
  assert.equal(report.setup, undefined)
  const kept = join(dir, '.crashless', 'incidents', `${id}.triage.json`)
  assert.ok(existsSync(kept), `kept at ${kept}`)

  const triaged = page.locator(`#incidents tbody tr[data-id="${id}"][data-triage="deterministic"]`)
  await triaged.waitFor({ timeout: 10_000 })
  assert.equal(await triaged.locator('.badge').innerText(), 'deterministic')
  const cell = await triaged.locator('td.triage').innerText()
  assert.match(cell, new RegExp(`${report.agreeing}/${report.runs} runs agreed`))
  // A poison request: the ladder found no cure, and the row says so rather than leaving it blank.
  assert.match(cell, /cure none/)
  assert.match(cell, /minimised GET \/fault\/throw/)
  assert.ok(cell.includes(report.regressionTest), cell)
  const screenshot = process.env.CRASHLESS_DASHBOARD_SCREENSHOT
  if (screenshot) await page.screenshot({ path: screenshot })

  // The admin endpoint: the listing carries the summary, the incident the whole kept report.
  const listed = (await (await fetch(`${server.adminUrl}/incidents`)).json()) as { incidents: { id: string; triage: string | null; triageSummary: { class: string; regressionTest: string } | null }[] }
  const row = listed.incidents.find((i) => i.id === id)!
  assert.equal(row.triage, 'deterministic')
  assert.equal(row.triageSummary!.regressionTest, report.regressionTest)
  const one = (await (await fetch(`${server.adminUrl}/incidents/${id}`)).json()) as { id: string; triage: { class: string; triagedAt: string } }
  assert.deepEqual([one.id, one.triage.class, one.triage.triagedAt], [id, 'deterministic', report.triagedAt])

  // The CLI reads the same folder.
  const ls = JSON.parse((await runCli(['incidents', 'ls', '--json'], { cwd: dir })).stdout) as { id: string; triage: string | null }[]
  assert.equal(ls.find((r) => r.id === id)!.triage, 'deterministic')
  const show = await runCli(['incidents', 'show', id], { cwd: dir })
  assert.match(show.stdout, /\ntriage {4}kept from /)
  assert.match(show.stdout, /\n {2}deterministic: /)

  // --no-save leaves the kept report as it was.
  const again = await runCli(['triage', id, '--runs', '1', '--no-test', '--no-save', '--json'], { cwd: dir, timeoutMs: 150_000 })
  assert.equal(again.code, 0, again.stderr)
  const still = (await (await fetch(`${server.adminUrl}/incidents/${id}`)).json()) as { triage: { triagedAt: string } }
  assert.equal(still.triage.triagedAt, report.triagedAt)
})

// Smoke test of the eBid app (API.md): starts bench/ebid/server.js under plain node with
// EBID_STORE=sqlite on a free port, exercises every route once and checks the bodies, then arms a
// few faults through the arm file and shows their effect. Prints PASS/FAIL lines; < 20 s.
//
//   node bench/ebid/smoke.js                  # start the app itself (sqlite, temp files)
//   node bench/ebid/smoke.js --origin URL     # only the route checks, against a running app
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from '../lib/args.js'
import { spawnLogged, stopChild, tailFile } from '../lib/child.js'
import { onCleanup, runGuarded } from '../lib/cleanup.js'
import { freePort } from '../lib/free-port.js'
import { scratchFile } from '../lib/paths.js'
import { sleep, waitReady } from '../lib/wait-ready.js'
import { checkRoutes, makeClient } from './smoke-routes.js'

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'server.js')
const args = parseArgs(process.argv.slice(2), { origin: { type: 'string', default: undefined } })
let failures = 0

function check(name, ok, detail = '') {
  if (!ok) failures++
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`)
}

/** Starts the app on a free port with the given store and fault files; stops it at cleanup. */
async function startApp(dir, db, faultFile, logName) {
  const port = await freePort()
  const logFile = scratchFile(logName)
  const env = { ...process.env, PORT: String(port), EBID_STORE: 'sqlite', EBID_DB: db, EBID_FAULT_FILE: faultFile }
  const handle = spawnLogged(process.execPath, [SERVER], { env, logFile, cwd: dir })
  onCleanup(() => stopChild(handle, { graceMs: 2_000 }))
  const origin = `http://127.0.0.1:${port}`
  await waitReady(`${origin}/health`, { timeoutMs: 10_000, alive: () => !handle.state.exited })
  return { origin, handle, logFile }
}

/** Arms a fault the way the campaign does: write a temp file, rename it onto the arm file. */
function arm(faultFile, kind, component, shot = 1) {
  fs.writeFileSync(`${faultFile}.tmp`, JSON.stringify({ kind, component, shot }))
  fs.renameSync(`${faultFile}.tmp`, faultFile)
}

async function faultChecks(app, faultFile, client) {
  const a = client('u31')
  const b = client('u32')
  await a.login()
  await b.login()

  arm(faultFile, 'corruption', 'bids')
  const before = (await a.get('/items/41')).body.price
  const bid = await a.post('/bids/41', { amount: before + 5 })
  const after = (await a.get('/items/41')).body.price
  check('fault corruption/bids: the bid answers 200 but the stored price is off by one', bid.status === 200 && after === before + 6, `bid ${before + 5}, price now ${after}`)

  arm(faultFile, 'invalid-value', 'items')
  const taking = await a.get('/items/42')
  const meets = await a.get('/items/42')
  const heal = await a.post('/bids/42', { amount: taking.body.price + 1 })
  const healed = await a.get('/items/42')
  check('fault invalid-value/items: item 42 then answers 500 until a bid writes it again', taking.status === 200 && meets.status === 500 && heal.status === 200 && healed.status === 200, `${taking.status} ${meets.status} ${heal.status} ${healed.status}: ${meets.body.error}`)

  arm(faultFile, 'race', 'bids')
  const start = (await a.get('/items/43')).body
  const [x, y] = await Promise.all([a.post('/bids/43', { amount: start.price + 10 }), b.post('/bids/43', { amount: start.price + 20 })])
  const raced = (await a.get('/items/43')).body
  check('fault race/bids: two concurrent bids both answer 200 but one update is lost', x.status === 200 && y.status === 200 && raced.bids === start.bids + 1, `bids ${start.bids} -> ${raced.bids}`)

  arm(faultFile, 'deadlock', 'users')
  const hung = await a.get('/users/me', 500)
  const blocked = await b.get('/users/me', 500)
  const other = await a.get('/items/44', 1_000)
  check('fault deadlock/users: /users/... hangs, /items/... still answers', hung.status === 0 && blocked.status === 0 && other.status === 200, `${hung.status} ${blocked.status} ${other.status}`)

  arm(faultFile, 'exit', 'items')
  const died = await a.get('/items/45', 1_000)
  const state = await Promise.race([app.handle.exited, sleep(2_000).then(() => app.handle.state)])
  check('fault exit/items: the taking request gets no answer and the process exits 1', died.status === 0 && state.code === 1, `status ${died.status}, exit code ${state.code}`)
}

async function attackerCheck(dir, db, faultFile) {
  const app = await startApp(dir, db, faultFile, 'ebid-smoke-attacker.log')
  const c = makeClient(app.origin)(null)
  const fine = await c.get('/items/search?q=poison')
  const poison = await c.get(`/items/search?q=%00poison${'%ff%fe%41'}`, 1_000)
  const state = await Promise.race([app.handle.exited, sleep(2_000).then(() => app.handle.state)])
  const crashed = /TypeError/.test(tailFile(app.logFile, 30))
  check('attacker: a "\\0poison" search crashes the process (uncaught TypeError in a callback)', fine.status === 200 && poison.status === 0 && state.exited && crashed, `plain ${fine.status}, poison ${poison.status}, exit ${state.code}`)
}

async function main() {
  const t0 = Date.now()
  if (args.origin) {
    await checkRoutes(makeClient(args.origin), check)
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ebid-smoke-'))
    onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }))
    const db = path.join(dir, 'ebid.sqlite')
    const faultFile = path.join(dir, 'fault.json')
    const app = await startApp(dir, db, faultFile, 'ebid-smoke.log')
    const client = makeClient(app.origin)
    await checkRoutes(client, check)
    await faultChecks(app, faultFile, client)
    await attackerCheck(dir, db, faultFile)
  }
  console.log(`${failures === 0 ? 'PASS' : 'FAIL'} smoke: ${failures} failure(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  if (failures > 0) process.exitCode = 1
}

await runGuarded(main, { budgetMs: 20_000 })
// fetch's pooled keep-alive sockets would hold the process open for a few more seconds.
process.exit()

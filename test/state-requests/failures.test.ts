/**
 * A request that writes and then fails — its handler throws, an error escapes into a timer or
 * a floating promise, it calls process.exit, it spins forever — leaves nothing visible: its
 * writes were only buffered in its instance and are never sent. Checked through the store
 * itself (other requests, on other instances) after each fault, with real faults.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { cleanup, getKey, send, sendJson, setKey, startApp } from './harness.js'

let express: CrashlessProcess
/** The fetch app, with instances in worker threads and in child processes (isolation). */
const servers = {} as Record<'worker' | 'process', CrashlessProcess>

before(async () => {
  const config = { timeouts: { leaseMs: 400, requestMs: 10_000 } }
  ;[servers.worker, servers.process, express] = await Promise.all([startApp('store-fetch.mjs', config), startApp('store-fetch.mjs', { ...config, isolation: 'process' }), startApp('store-express.mjs', config)])
})
after(cleanup)

const faults = [
  { path: '/fail/throw', statuses: [500], what: 'the fetch handler throws' },
  { path: '/fail/crash', statuses: [500], what: 'an uncaught exception in a timer' },
  { path: '/fail/reject', statuses: [500], what: 'an unhandled rejection' },
  { path: '/fail/exit', statuses: [500], what: 'process.exit()' },
  // The loop starts after an await, so it may not be attributed: then the POST cannot be
  // re-served and gets 502. Either way it failed, and nothing it wrote may show.
  { path: '/fail/loop', statuses: [500, 502], what: 'an infinite loop' },
]

for (const isolation of ['worker', 'process'] as const) {
for (const fault of faults) {
  test(`(isolation: ${isolation}) writes then ${fault.what}: the request fails and nothing it wrote is visible`, async () => {
    const server = servers[isolation]
    const key = `fault${fault.path.replaceAll('/', ':')}`
    const answer = await send(`${server.url}${fault.path}?k=${key}`, { method: 'POST' })
    assert.ok(fault.statuses.includes(answer.status), `${fault.path}: got ${answer.status} ${answer.body}`)
    assert.match(JSON.parse(answer.body).error.code as string, /^CRASHLESS_ERR_(HANDLER|INSTANCE_LOST)$/)
    assert.equal(await getKey(server.url, key), undefined)
    // The store still works for everyone else, on whichever instance serves them now.
    await setKey(server.url, `${key}:after`, 'fine')
    assert.equal(await getKey(server.url, `${key}:after`), 'fine')
  })
}

test(`(isolation: ${isolation}) nothing any failed request wrote is anywhere in the store`, async () => {
  const { entries } = await sendJson<{ entries: { key: string; value: unknown }[] }>(`${servers[isolation].url}/list?prefix=fault`)
  assert.deepEqual(entries.filter((e) => e.value === 'should never be visible'), [])
  assert.equal(entries.length, faults.length, JSON.stringify(entries))
})
}

test('Express: an uncaught exception after writing (suppressed by crashless) commits nothing', async () => {
  const answer = await send(`${express.url}/fail/crash?k=ex:crash`, { method: 'POST' })
  assert.equal(answer.status, 500, answer.body)
  assert.equal(JSON.parse(answer.body).error.code, 'CRASHLESS_ERR_HANDLER')
  assert.equal(await getKey(express.url, 'ex:crash'), undefined)
})

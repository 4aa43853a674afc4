/**
 * Groups and recursive recovery (issue 16.4) with real processes. The trading components run
 * their own entry, which polls a shared market feed in the background; when the feed fails,
 * their instances die together with no request to blame. Items and bids in one group are
 * rebooted together; /users, outside the group, keeps its instances. A component alone climbs
 * the ladder: its instances, then the component, then past the runtime's intensity the keeper
 * swaps in its standby.
 */
import assert from 'node:assert/strict'
import { rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fixture } from '../helpers/crashless-process.js'
import { listInstances, loop, send, serving, start, stopAll, type Served } from './harness.js'

/** Polls `check` every 50 ms until it holds, for at most `ms`. */
async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const flags: string[] = []
after(async () => {
  await stopAll()
  for (const flag of flags) rmSync(flag, { force: true })
})

/**
 * Waits until `prefix`'s serving instance and spare are ready and up for over a second: an
 * instance dying sooner with nobody to blame counts as failing to start (a crash loop), which
 * is the pool's business, not the restart tree's.
 */
async function settled(server: Served, prefix: string): Promise<void> {
  await until(async () => (await listInstances(server)).filter((i) => i.id.startsWith(prefix) && i.state === 'ready' && (i.role === 'serving' || i.role === 'spare') && i.uptimeMs > 1_100).length === 2, `${prefix} has a serving instance and a spare up for a second`)
}

/** Makes the market feed fail for every trading instance of `server`'s runtime started before now. */
function failFeed(server: Served): void {
  const flag = join(tmpdir(), `crashless-tree-feed-${server.runtimePid}`)
  flags.push(flag)
  writeFileSync(flag, 'down')
  // Now, explicitly: a second failure must be newer than the instances started after the first.
  const now = new Date()
  utimesSync(flag, now, now)
}

test('two components of a group failing together are rebooted together; a component outside it is untouched', async () => {
  const trade = fixture('tree-trade.mjs')
  const server = await start(
    {
      instances: 1,
      spares: 1,
      components: { items: { prefix: '/items', entry: trade, group: 'trade' }, bids: { prefix: '/bids', entry: trade, group: 'trade' }, users: { prefix: '/users' } },
      groups: { trade: { windowMs: 1_000 } },
    },
    'tree-app.mjs',
  )
  const users = await serving(server, 'users/')
  const items = await serving(server, 'items/')
  const bids = await serving(server, 'bids/')
  await settled(server, 'items/')
  await settled(server, 'bids/')
  failFeed(server)
  const rebooted = server.waitForLog((l) => l.event === 'reboot', 10_000)
  const during = await loop(`${server.url}/users/me`, rebooted, { workers: 2, max: 2_000 })
  const line = await rebooted
  assert.equal(line.scope, 'group')
  assert.equal(line.group, 'trade')
  assert.deepEqual(line.components, ['items', 'bids'])
  assert.match(line.why as string, /^instances of bids, items \(group trade\) failed together within 1000 ms$/)
  assert.deepEqual(during.failures, [])
  assert.deepEqual(await serving(server, 'users/'), users, '/users keeps its instances')
  // Both trading components serve again, from new instances, which the feed's failure predates.
  for (const [prefix, before] of [['items', items], ['bids', bids]] as const) {
    const answer = await send(`${server.url}/${prefix}/1`)
    assert.equal(answer.status, 200, answer.body)
    const now = await serving(server, `${prefix}/`)
    assert.equal(now.filter((id) => before.includes(id)).length, 0, `${prefix}: every instance is new (${before.join()} -> ${now.join()})`)
  }
  assert.equal(server.logs.filter((l) => l.event === 'reboot').length, 1, 'one decision, one line')
})

test('a component alone climbs the ladder: instances, then the component, then past recovery.runtimeIntensity the keeper swaps in its standby', async () => {
  const server = await start(
    {
      instances: 1,
      spares: 1,
      components: { bids: { prefix: '/bids', entry: fixture('tree-trade.mjs'), intensity: 1, periodMs: 60_000 } },
      recovery: { runtimeIntensity: 1, runtimePeriodMs: 60_000 },
    },
    'tree-app.mjs',
  )
  const first = server.runtimePid
  await server.waitForLog((l) => l.event === 'standby-ready', 15_000)
  await settled(server, 'bids/')
  failFeed(server)
  const component = await server.waitForLog((l) => l.event === 'reboot' && l.pid === first, 10_000)
  assert.equal(component.scope, 'component')
  assert.match(component.why as string, /^more than 1 instances of bids lost with no request to blame within 60000 ms; last: crash Error: the market feed failed/)
  // The new instances, started after this failure, are fine; the feed's next failure kills them too.
  await settled(server, 'bids/')
  failFeed(server)
  const escalated = await server.waitForLog((l) => l.event === 'escalate' && l.pid === first, 10_000)
  assert.equal(escalated.scope, 'runtime')
  assert.match(escalated.why as string, /^more than 1 reboots of components and groups within 60000 ms \(recovery\.runtimeIntensity\); last: more than 1 instances of bids lost/)
  const replaced = await server.waitForLog((l) => l.event === 'runtime-replaced', 15_000)
  assert.equal(replaced.previous, first)
  const answer = await send(`${server.url}/bids/1`)
  assert.equal(answer.status, 200)
  assert.notEqual((JSON.parse(answer.body) as { pid: number }).pid, first)
  // One line per decision above the instance: the component's reboot, then the runtime's swap.
  const levels = server.logs.filter((l) => (l.event === 'reboot' || l.event === 'escalate') && l.pid === first).map((l) => l.scope)
  assert.deepEqual(levels, ['component', 'runtime'])
})

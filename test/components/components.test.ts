/**
 * Components (issue 16.1) with real processes: one unmodified app, two prefixes in pools of
 * their own. A crash loop or a leak in /bids reboots /bids instances only: /users keeps
 * answering every request, from the very instances (thread ids, pids, instance ids) it had, as
 * fast as in a warm-up of the same length before the fault.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { listInstances, loop, quantile, send, serving, start, stopAll, type LoopReport } from './harness.js'

after(stopAll)

/** How long the fault phase lasts at least, and the warm-up before it: the same, so their latencies compare. */
const PHASE_MS = 3_000

/** A promise that resolves after `ms`: the end of a time-bounded load phase (not a synchronisation). */
const phaseEnd = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * /users latency during the fault against a warm-up of about the same length, same loops, same
 * machine, same test (never a speed check of the machine): its p99 may exceed neither twice the
 * warm-up's nor the warm-up's plus 30 ms (the floor lets a few-millisecond warm-up p99 breathe on
 * a loaded machine). Measured: with /users in its own pool the fault's p99 stayed within 0.3x to
 * 1.1x of the warm-up's; with /users routed into the leaking component (sharing its instances
 * and their rejuvenations) it was 2.8x to 5.9x (102 ms vs 22, 214 ms vs 36), and this fails.
 */
function assertLatencyUnchanged(warm: LoopReport, during: LoopReport): void {
  const warmP99 = quantile(warm.ms, 0.99)
  const duringP99 = quantile(during.ms, 0.99)
  const bound = Math.max(2.5 * warmP99, warmP99 + 40)
  const said = `/users p99 ${duringP99.toFixed(1)} ms during the fault (${during.ms.length} requests, p50 ${quantile(during.ms, 0.5).toFixed(1)}, max ${quantile(during.ms, 1).toFixed(1)}) vs ${warmP99.toFixed(1)} ms in the warm-up (${warm.ms.length} requests, p50 ${quantile(warm.ms, 0.5).toFixed(1)}); bound ${bound.toFixed(1)} ms`
  console.log(said)
  assert.ok(warm.ms.length >= 20 && during.ms.length >= 20, `enough samples: ${said}`)
  assert.ok(duringP99 <= bound, said)
}

const components = { users: { prefix: '/users', instances: 2 }, bids: { prefix: '/bids', instances: 1 } }

test('a crash loop in /bids: /users answers every request from the instances it had; only bids/ instances are replaced', async () => {
  const server = await start({ instances: 1, spares: 1, components }, 'components-app.mjs')
  const users = await serving(server, 'users/')
  const bids = await serving(server, 'bids/')
  assert.equal(users.length, 2)
  assert.equal(bids.length, 1)
  const warm = await loop(`${server.url}/users/me`, phaseEnd(PHASE_MS), { workers: 4, max: 20_000 })
  assert.deepEqual(warm.failures, [])

  // Distinct crashing requests, one after the other, ten at least and for PHASE_MS at least:
  // every one crashes a bids instance (its own, or a sacrificial one of the recovery ladder).
  const crashes = (async () => {
    const statuses: number[] = []
    const end = performance.now() + PHASE_MS
    for (let n = 0; n < 10 || (performance.now() < end && n < 100); n++) statuses.push((await send(`${server.url}/bids/crash?n=${n}`)).status)
    return statuses
  })()
  const during = await loop(`${server.url}/users/me`, crashes, { workers: 4, max: 20_000 })
  const statuses = await crashes
  assert.ok(statuses.every((s) => s >= 500), `crashing requests fail: ${statuses.join(' ')}`)

  assert.deepEqual(during.failures, [], `${during.failures.length} /users request(s) failed while /bids crashed`)
  assert.ok(during.ok >= 20, `/users served ${during.ok} requests meanwhile`)
  assertLatencyUnchanged(warm, during)
  assert.deepEqual(await serving(server, 'users/'), users, 'the users instances are the same ones')
  assert.deepEqual([...during.answeredBy].sort(), [...warm.answeredBy].sort(), '/users answered from the same threads before and during')
  const crashed = server.logs.filter((l) => l.event === 'request-crashed' || l.event === 'instance-lost')
  assert.ok(crashed.length >= 10, `${crashed.length} crash/loss lines`)
  for (const line of crashed) assert.match(String(line.instance), /^bids\//, `only bids instances fail: ${JSON.stringify(line)}`)
  assert.notDeepEqual(await serving(server, 'bids/'), bids, 'the bids instance was replaced')
  // Requests outside every prefix go to the default component.
  const other = await send(`${server.url}/elsewhere`)
  assert.equal(other.status, 200)
  assert.ok((await listInstances(server)).some((i) => /^i\d+$/.test(i.id) && i.role === 'serving'), 'the default component has its own instance')
})

test('a leak in /bids, instances as child processes: bids instances are rejuvenated, /users keeps its pids', async () => {
  const server = await start({ instances: 1, spares: 1, isolation: 'process', components: { ...components, bids: { prefix: '/bids', instances: 1, limits: { heapMb: 64 } } } }, 'components-app.mjs')
  const users = await serving(server, 'users/')
  const warm = await loop(`${server.url}/users/me`, phaseEnd(PHASE_MS), { workers: 4, max: 20_000 })
  assert.deepEqual(warm.failures, [])
  const bidsPid = JSON.parse((await send(`${server.url}/bids/ok`)).body) as { pid: number }

  const leaks = (async () => {
    for (let n = 0; n < 10; n++) assert.equal((await send(`${server.url}/bids/leak?mb=12&n=${n}`)).status, 200)
    // The last rejuvenation is logged once the spare took over.
    await server.waitForLog((l) => l.event === 'rejuvenated', 10_000)
  })()
  const during = await loop(`${server.url}/users/me`, leaks, { workers: 4, max: 20_000 })
  await leaks

  assert.deepEqual(during.failures, [], `${during.failures.length} /users request(s) failed while /bids leaked`)
  assertLatencyUnchanged(warm, during)
  assert.deepEqual([...during.answeredBy].sort(), [...warm.answeredBy].sort(), '/users answered from the same processes')
  assert.deepEqual(await serving(server, 'users/'), users, 'the users instances are the same ones')
  const rejuvenated = server.logs.filter((l) => l.event === 'rejuvenated')
  assert.ok(rejuvenated.length >= 1)
  for (const line of rejuvenated) assert.match(String(line.instance), /^bids\//)
  const now = JSON.parse((await send(`${server.url}/bids/ok`)).body) as { pid: number }
  assert.notEqual(now.pid, bidsPid.pid, 'the leaking bids process was replaced')
})

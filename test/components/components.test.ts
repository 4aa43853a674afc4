/**
 * Components (issue 16.1) with real processes: one unmodified app, two prefixes in pools of
 * their own. A crash loop or a leak in /bids reboots /bids instances only: /users keeps
 * answering every request, from the very instances (thread ids, pids, instance ids) it had.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { listInstances, loop, send, serving, start, stopAll } from './harness.js'

after(stopAll)

const components = { users: { prefix: '/users', instances: 2 }, bids: { prefix: '/bids', instances: 1 } }

test('a crash loop in /bids: /users answers every request from the instances it had; only bids/ instances are replaced', async () => {
  const server = await start({ instances: 1, spares: 1, components }, 'components-app.mjs')
  const users = await serving(server, 'users/')
  const bids = await serving(server, 'bids/')
  assert.equal(users.length, 2)
  assert.equal(bids.length, 1)
  const warm = await loop(`${server.url}/users/me`, null, { max: 40 })
  assert.deepEqual(warm.failures, [])

  // Ten distinct crashing requests, one after the other: every one crashes a bids instance
  // (its own, or a sacrificial one of the recovery ladder).
  const crashes = (async () => {
    const statuses: number[] = []
    for (let n = 0; n < 10; n++) statuses.push((await send(`${server.url}/bids/crash?n=${n}`)).status)
    return statuses
  })()
  const during = await loop(`${server.url}/users/me`, crashes, { workers: 4 })
  const statuses = await crashes
  assert.ok(statuses.every((s) => s >= 500), `crashing requests fail: ${statuses.join(' ')}`)

  assert.deepEqual(during.failures, [], `${during.failures.length} /users request(s) failed while /bids crashed`)
  assert.ok(during.ok >= 20, `/users served ${during.ok} requests meanwhile`)
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
  const warm = await loop(`${server.url}/users/me`, null, { max: 40 })
  const bidsPid = JSON.parse((await send(`${server.url}/bids/ok`)).body) as { pid: number }

  const leaks = (async () => {
    for (let n = 0; n < 10; n++) assert.equal((await send(`${server.url}/bids/leak?mb=12&n=${n}`)).status, 200)
    // The last rejuvenation is logged once the spare took over.
    await server.waitForLog((l) => l.event === 'rejuvenated', 10_000)
  })()
  const during = await loop(`${server.url}/users/me`, leaks, { workers: 4 })
  await leaks

  assert.deepEqual(during.failures, [], `${during.failures.length} /users request(s) failed while /bids leaked`)
  assert.deepEqual([...during.answeredBy].sort(), [...warm.answeredBy].sort(), '/users answered from the same processes')
  assert.deepEqual(await serving(server, 'users/'), users, 'the users instances are the same ones')
  const rejuvenated = server.logs.filter((l) => l.event === 'rejuvenated')
  assert.ok(rejuvenated.length >= 1)
  for (const line of rejuvenated) assert.match(String(line.instance), /^bids\//)
  const now = JSON.parse((await send(`${server.url}/bids/ok`)).body) as { pid: number }
  assert.notEqual(now.pid, bidsPid.pid, 'the leaking bids process was replaced')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { componentConfig, resolveComponents, resolveConfig, resolveGroups } from '../../src/config/index.js'

const opts = { baseDir: '/srv/site', source: '/srv/site/crashless.config.ts' }
const FROM = '(from /srv/site/crashless.config.ts)'

function assertConfigError(input: unknown, path: string, detail: string): void {
  assert.throws(() => resolveConfig(input, opts), { name: 'ConfigError', code: 'CRASHLESS_ERR_CONFIG', path, message: `invalid config: ${path}: ${detail}` })
}

test('bad components, groups and outliers name the option path', () => {
  const cases: [unknown, string, string][] = [
    [{ components: [] }, 'components', `expected an object of components by name, got an array ${FROM}`],
    [{ components: { '1bad': { prefix: '/x' } } }, 'components.1bad', `expected a component name (a letter, then letters, digits, - or _; at most 32), got "1bad" ${FROM}`],
    [{ components: { bids: { prefix: 'bids' } } }, 'components.bids.prefix', `expected a route prefix such as "/bids": starting with /, no query, fragment, * or spaces, not / alone, got "bids" ${FROM}`],
    [{ components: { bids: { prefix: '/' } } }, 'components.bids.prefix', `expected a route prefix such as "/bids": starting with /, no query, fragment, * or spaces, not / alone, got "/" ${FROM}`],
    [{ components: { bids: { prefix: ['/bids', '/b?x'] } } }, 'components.bids.prefix[1]', `expected a route prefix such as "/bids": starting with /, no query, fragment, * or spaces, not / alone, got "/b?x" ${FROM}`],
    [{ components: { bids: { prefix: [] } } }, 'components.bids.prefix', `expected a route prefix or a non-empty list of them, got an array ${FROM}`],
    [{ components: { bids: { prefix: '/bids', instances: 0 } } }, 'components.bids.instances', `expected a positive integer, got 0 ${FROM}`],
    [{ components: { bids: { prefix: '/bids', spares: -1 } } }, 'components.bids.spares', `expected a non-negative integer, got -1 ${FROM}`],
    [{ components: { bids: { prefix: '/bids', limits: { heapMb: 1.5 } } } }, 'components.bids.limits.heapMb', `expected a positive integer, got 1.5 ${FROM}`],
    [{ components: { bids: { prefix: '/bids', limits: { leaseMs: 5 } } } }, 'components.bids.limits.leaseMs', `expected a component limit (concurrency, queue, heapMb, stackMb, externalMb), got "leaseMs" ${FROM}`],
    [{ components: { bids: { prefix: '/bids', limit: {} } } }, 'components.bids.limit', `expected a component option (did you mean limits?), got "limit" ${FROM}`],
    [{ components: { bids: { prefix: '/bids', healthCheck: { everyMs: 1000 } } } }, 'components.bids.healthCheck.path', `expected a path, got undefined ${FROM}`],
    [{ components: { bids: { prefix: '/bids', healthCheck: { path: '/h', everyMs: 10 } } } }, 'components.bids.healthCheck.everyMs', `expected an integer >= 100 up to 2147483647, got 10 ${FROM}`],
    [{ components: { bids: { prefix: '/bids', intensity: 0 } } }, 'components.bids.intensity', `expected a positive integer, got 0 ${FROM}`],
    [{ components: { bids: { prefix: '/bids', group: 'no spaces' } } }, 'components.bids.group', `expected a group name (a letter, then letters, digits, - or _), got "no spaces" ${FROM}`],
    [{ groups: { trade: { windowMs: 0 } } }, 'groups.trade.windowMs', `expected a positive integer up to 2147483647, got 0 ${FROM}`],
    [{ outliers: { consecutive5xx: -1 } }, 'outliers.consecutive5xx', `expected a non-negative integer, got -1 ${FROM}`],
    [{ outliers: { ratePercent: 0 } }, 'outliers.ratePercent', `expected a percentage from 1 to 100, got 0 ${FROM}`],
    [{ recovery: { runtimeIntensity: 0 } }, 'recovery.runtimeIntensity', `expected a positive integer, got 0 ${FROM}`],
  ]
  for (const [input, path, detail] of cases) assertConfigError({ entry: 'a.ts', ...(input as object) }, path, detail)
})

test('the tree is checked once merged: prefixes, the default component, unknown and empty groups', () => {
  const cases: [unknown, string, string][] = [
    [{ components: { bids: {} } }, 'components.bids.prefix', "missing: name the route prefix(es) the component serves, e.g. prefix: '/bids'"],
    [{ components: { default: { prefix: '/x' } } }, 'components.default.prefix', 'the default component takes every request no other prefix matches; it has no prefix of its own'],
    [{ components: { a: { prefix: '/x' }, b: { prefix: ['/y', '/x/'] } } }, 'components.b.prefix', '"/x" overlaps components.a.prefix: a prefix routes to one component only'],
    [{ components: { bids: { prefix: '/bids', group: 'trad' } }, groups: { trade: {} } }, 'components.bids.group', 'unknown group "trad" (did you mean groups.trade?): declare it under groups'],
    [{ components: { bids: { prefix: '/bids', group: 'trade' } } }, 'components.bids.group', 'unknown group "trade": declare it under groups'],
    [{ components: { bids: { prefix: '/bids' } }, groups: { trade: {} } }, 'groups.trade', 'no component belongs to this group (set components.<name>.group)'],
  ]
  for (const [input, path, detail] of cases) assertConfigError({ entry: 'a.ts', ...(input as object) }, path, detail)
})

test('components resolve with the top level as their defaults, default last; nested prefixes are allowed', () => {
  const config = resolveConfig(
    {
      entry: 'app.ts',
      instances: 3,
      spares: 2,
      limits: { heapMb: 256 },
      components: {
        bids: { prefix: ['/bids/', '/bid'], instances: 1, group: 'trade', limits: { heapMb: 64 }, healthCheck: { path: '/bids/health', everyMs: 500 } },
        admin: { prefix: '/bids/admin', entry: './admin.ts', spares: 0, group: 'trade', intensity: 2 },
        default: { instances: 1 },
      },
      groups: { trade: { windowMs: 500 } },
    },
    opts,
  )
  const [bids, admin, fallback] = resolveComponents(config)
  assert.deepEqual(bids, {
    name: 'bids',
    prefixes: ['/bids', '/bid'],
    entry: '/srv/site/app.ts',
    instances: 1,
    spares: 2,
    group: 'trade',
    limits: { concurrency: 64, queue: 1024, heapMb: 64, stackMb: 4, externalMb: 512 },
    healthCheck: { path: '/bids/health', everyMs: 500, timeoutMs: 500, failures: 2 },
    intensity: 10,
    periodMs: 60_000,
  })
  assert.equal(admin!.entry, '/srv/site/admin.ts')
  assert.equal(admin!.intensity, 2)
  assert.equal(admin!.spares, 0)
  assert.deepEqual([fallback!.name, fallback!.prefixes, fallback!.instances, fallback!.spares, fallback!.limits.heapMb], ['default', [], 1, 2, 256])
  assert.deepEqual(resolveGroups(config), [{ name: 'trade', members: ['bids', 'admin'], intensity: 3, periodMs: 60_000, windowMs: 500 }])
  const own = componentConfig(config, bids!)
  assert.deepEqual([own.entry, own.instances, own.spares, own.limits.heapMb, own.limits.maxBodyBytes], ['/srv/site/app.ts', 1, 2, 64, 10 * 1024 * 1024])
})

test('without components there is one: default, the whole app', () => {
  const config = resolveConfig({ entry: 'app.ts', instances: 2 }, opts)
  const all = resolveComponents(config)
  assert.equal(all.length, 1)
  assert.deepEqual([all[0]!.name, all[0]!.prefixes, all[0]!.instances, all[0]!.healthCheck], ['default', [], 2, null])
  assert.deepEqual(config.outliers, { consecutive5xx: 5, windowMs: 10_000, minRequests: 20, ratePercent: 20, rateFactor: 5, intensity: 3, periodMs: 60_000, suspects: 8 })
})

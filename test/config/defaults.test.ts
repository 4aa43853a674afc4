import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { test } from 'node:test'
import { defaults, defineConfig, resolveConfig } from '../../src/config/index.js'
import { withDefaults } from '../../src/config/defaults.js'

test('defaults are the documented values', () => {
  assert.deepEqual(defaults, {
    port: undefined,
    host: undefined,
    instances: availableParallelism(),
    spares: 1,
    style: 'auto',
    isolation: 'worker',
    runtimes: 1,
    limits: { maxBodyBytes: 10 * 1024 * 1024, bufferedBodyMb: 256, concurrency: 64, queue: 1024, heapMb: 512, stackMb: 4, externalMb: 512, rssMb: 0 },
    timeouts: { requestMs: 30_000, leaseMs: 1_000, startMs: 10_000, drainMs: 10_000, headersMs: 10_000, bodyMs: 30_000 },
    replay: {
      maxAttempts: 3,
      methods: ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'],
      idempotencyKeyHeader: 'idempotency-key',
      idempotencyTtlMs: 86_400_000,
    },
    immunity: { threshold: 2, quarantineMs: 600_000, store: 'sqlite', path: '.crashless/immunity.db', signature: { query: 'all', body: true }, maxCrashes: 3, bulkhead: 5 },
    recovery: { ladder: ['fresh', 'exclusive', 'heap', 'stack', 'deadline', 'reorder'], sacrificial: 2, queue: 256, heapFactor: 4, stackFactor: 4, timeFactor: 3, budgetMs: 60_000, intensity: 10, periodMs: 60_000, runtimeIntensity: 3, runtimePeriodMs: 60_000 },
    components: {},
    groups: {},
    incidents: { dir: '.crashless/incidents', maxCount: 1_000, maxBytes: 64 * 1024 * 1024, maxBodyBytes: 64 * 1024, record: true, redact: { headers: [], bodyFields: [], env: [] } },
    outliers: { consecutive5xx: 5, windowMs: 10_000, minRequests: 20, ratePercent: 20, rateFactor: 5, intensity: 3, periodMs: 60_000, suspects: 8 },
    rejuvenate: { heapPercent: 75, maxAgeMs: 0, maxRequests: 0 },
    keeper: { standby: true, leaseMs: 3_000, intensity: 5, periodMs: 60_000 },
    admin: { enabled: true, port: 9300, host: '127.0.0.1' },
    state: {
      backend: 'sqlite',
      path: '.crashless/state.db',
      synchronous: 'normal',
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'crashless:',
      maxCommitRetries: 5,
      readCacheMb: 16,
    },
    session: { enabled: false, cookieName: 'crashless.sid', ttlMs: 86_400_000, secure: false, sameSite: 'lax', path: '/' },
    probes: {},
    log: { level: 'info', format: 'auto' },
  })
})

test('a config with only an entry resolves to the defaults', () => {
  const config = resolveConfig({ entry: '/srv/app.ts' }, { baseDir: '/', source: 'test' })
  assert.deepEqual(config, { ...defaults, entry: '/srv/app.ts', replay: { ...defaults.replay, methods: [...defaults.replay.methods] }, recovery: { ...defaults.recovery, ladder: [...defaults.recovery.ladder] } })
  // Present as keys, not merely undefined by absence: the resolved shape promises every field.
  assert.ok('port' in config && 'host' in config)
})

test('given options win over defaults, option by option within a section', () => {
  const config = withDefaults({ entry: '/a.ts', limits: { queue: 7 }, timeouts: { leaseMs: 200 } })
  assert.equal(config.limits.queue, 7)
  assert.equal(config.limits.concurrency, 64)
  assert.equal(config.timeouts.leaseMs, 200)
  assert.equal(config.timeouts.requestMs, 30_000)
  const state = withDefaults({ entry: '/a.ts', state: { backend: 'memory' } }).state
  assert.equal(state.backend, 'memory')
  assert.equal(state.path, '.crashless/state.db')
  assert.equal(state.maxCommitRetries, 5)
})

test('defaults are frozen and never shared with a resolved config', () => {
  assert.ok(Object.isFrozen(defaults))
  assert.ok(Object.isFrozen(defaults.limits))
  assert.ok(Object.isFrozen(defaults.replay.methods))
  const config = withDefaults({ entry: '/a.ts' })
  config.replay.methods.push('POST')
  config.limits.heapMb = 1024
  assert.deepEqual(defaults.replay.methods, ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
  assert.equal(defaults.limits.heapMb, 512)
})

test('defineConfig returns its argument unchanged', () => {
  const config = { entry: './app.ts', port: 8080 }
  assert.equal(defineConfig(config), config)
  assert.deepEqual(defineConfig(config), { entry: './app.ts', port: 8080 })
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveConfig } from '../../src/config/index.js'
import { validateConfig } from '../../src/config/validate.js'

const opts = { baseDir: '/srv/site', source: '/srv/site/crashless.config.ts' }
const FROM = '(from /srv/site/crashless.config.ts)'

/** Asserts that resolving `input` throws a ConfigError for exactly `path` with exactly `detail`. */
function assertConfigError(input: unknown, path: string, detail: string): void {
  assert.throws(() => resolveConfig(input, opts), {
    name: 'ConfigError',
    code: 'CRASHLESS_ERR_CONFIG',
    path,
    message: `invalid config: ${path}: ${detail}`,
  })
}

test('bad values name the option, what was expected, what was found and the source', () => {
  const cases: [unknown, string, string][] = [
    [{ entry: 'a.ts', limits: { queue: -1 } }, 'limits.queue', `expected a positive integer, got -1 ${FROM}`],
    [{ entry: 'a.ts', limits: { concurrency: 0 } }, 'limits.concurrency', `expected a positive integer, got 0 ${FROM}`],
    [{ entry: 'a.ts', limits: { heapMb: 1.5 } }, 'limits.heapMb', `expected a positive integer, got 1.5 ${FROM}`],
    [{ entry: 'a.ts', limits: { maxBodyBytes: -5 } }, 'limits.maxBodyBytes', `expected a non-negative integer, got -5 ${FROM}`],
    [{ entry: 'a.ts', limits: { stackMb: Number.NaN } }, 'limits.stackMb', `expected a positive integer, got NaN ${FROM}`],
    [{ entry: 'a.ts', port: 65536 }, 'port', `expected a port number from 0 to 65535 (0 picks a free port), got 65536 ${FROM}`],
    [{ entry: 'a.ts', port: -1 }, 'port', `expected a port number from 0 to 65535 (0 picks a free port), got -1 ${FROM}`],
    [{ entry: 'a.ts', port: '3000' }, 'port', `expected a port number from 0 to 65535 (0 picks a free port), got "3000" ${FROM}`],
    [{ entry: 'a.ts', instances: 0 }, 'instances', `expected a positive integer, got 0 ${FROM}`],
    [{ entry: 'a.ts', spares: -1 }, 'spares', `expected a non-negative integer, got -1 ${FROM}`],
    [{ entry: 'a.ts', style: 'Fetch' }, 'style', `expected one of "auto", "fetch", "node", "listen", got "Fetch" ${FROM}`],
    [{ entry: 'a.ts', isolation: 'thread' }, 'isolation', `expected one of "worker", "process", got "thread" ${FROM}`],
    [{ entry: 'a.ts', runtimes: 0 }, 'runtimes', `expected 'auto' or an integer from 1 to 64, got 0 ${FROM}`],
    [{ entry: 'a.ts', runtimes: 'max' }, 'runtimes', `expected 'auto' or an integer from 1 to 64, got "max" ${FROM}`],
    [{ entry: 'a.ts', runtimes: 1.5 }, 'runtimes', `expected 'auto' or an integer from 1 to 64, got 1.5 ${FROM}`],
    [{ entry: 'a.ts', host: '' }, 'host', `expected a non-empty string, got "" ${FROM}`],
    [{ entry: 42 }, 'entry', `expected a non-empty string, got 42 ${FROM}`],
    [{ entry: 'a.ts', timeouts: { leaseMs: 49 } }, 'timeouts.leaseMs', `expected an integer >= 50 up to 2147483647, got 49 ${FROM}`],
    [{ entry: 'a.ts', timeouts: { requestMs: 2 ** 31 } }, 'timeouts.requestMs', `expected a positive integer up to 2147483647, got 2147483648 ${FROM}`],
    [{ entry: 'a.ts', timeouts: { startMs: Infinity } }, 'timeouts.startMs', `expected a positive integer up to 2147483647, got Infinity ${FROM}`],
    [{ entry: 'a.ts', timeouts: { drainMs: -1 } }, 'timeouts.drainMs', `expected a non-negative integer up to 2147483647, got -1 ${FROM}`],
    [{ entry: 'a.ts', replay: { maxAttempts: 0 } }, 'replay.maxAttempts', `expected a positive integer, got 0 ${FROM}`],
    [{ entry: 'a.ts', keeper: { leaseMs: 100 } }, 'keeper.leaseMs', `expected an integer >= 500 up to 2147483647, got 100 ${FROM}`],
    [{ entry: 'a.ts', keeper: { standby: 'yes' } }, 'keeper.standby', `expected true or false, got "yes" ${FROM}`],
    [{ entry: 'a.ts', keeper: { intensity: 0 } }, 'keeper.intensity', `expected a positive integer, got 0 ${FROM}`],
    [{ entry: 'a.ts', rejuvenate: { heapPercent: 100 } }, 'rejuvenate.heapPercent', `expected a percentage from 10 to 99, got 100 ${FROM}`],
    [{ entry: 'a.ts', rejuvenate: { heapPercent: 5 } }, 'rejuvenate.heapPercent', `expected a percentage from 10 to 99, got 5 ${FROM}`],
    [{ entry: 'a.ts', rejuvenate: { maxRequests: -1 } }, 'rejuvenate.maxRequests', `expected a non-negative integer, got -1 ${FROM}`],
    [{ entry: 'a.ts', rejuvenate: { maxAgeMs: 1.5 } }, 'rejuvenate.maxAgeMs', `expected a non-negative integer up to 9007199254740991, got 1.5 ${FROM}`],
    [{ entry: 'a.ts', replay: { methods: 'GET' } }, 'replay.methods', `expected an array of HTTP methods, got "GET" ${FROM}`],
    [{ entry: 'a.ts', replay: { methods: ['GET', 'BAD METHOD'] } }, 'replay.methods[1]', `expected an HTTP method such as "GET", got "BAD METHOD" ${FROM}`],
    [{ entry: 'a.ts', replay: { idempotencyKeyHeader: 'x key' } }, 'replay.idempotencyKeyHeader', `expected an HTTP header name, got "x key" ${FROM}`],
    [{ entry: 'a.ts', log: { level: 'verbose' } }, 'log.level', `expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "verbose" ${FROM}`],
    [{ entry: 'a.ts', state: { backend: 'postgres' } }, 'state.backend', `expected one of "sqlite", "memory", "redis", got "postgres" ${FROM}`],
    [{ entry: 'a.ts', state: { path: '' } }, 'state.path', `expected a non-empty string, got "" ${FROM}`],
    [{ entry: 'a.ts', state: { synchronous: 'FULL' } }, 'state.synchronous', `expected one of "off", "normal", "full", "extra", got "FULL" ${FROM}`],
    [{ entry: 'a.ts', state: { redisUrl: 'localhost:6379' } }, 'state.redisUrl', `expected a redis:// or rediss:// URL, got "localhost:6379" ${FROM}`],
    [{ entry: 'a.ts', state: { redisUrl: 'http://127.0.0.1' } }, 'state.redisUrl', `expected a redis:// or rediss:// URL, got "http://127.0.0.1" ${FROM}`],
    [{ entry: 'a.ts', state: { redisPrefix: 7 } }, 'state.redisPrefix', `expected a non-empty string, got 7 ${FROM}`],
    [{ entry: 'a.ts', state: { maxCommitRetries: -1 } }, 'state.maxCommitRetries', `expected a non-negative integer up to 100, got -1 ${FROM}`],
    [{ entry: 'a.ts', state: { readCacheMb: 1.5 } }, 'state.readCacheMb', `expected a non-negative integer up to 4096, got 1.5 ${FROM}`],
    [{ entry: 'a.ts', state: 'memory' }, 'state', `expected an object, got "memory" ${FROM}`],
    [{ entry: 'a.ts', limits: 5 }, 'limits', `expected an object, got 5 ${FROM}`],
    [{ entry: 'a.ts', timeouts: [1000] }, 'timeouts', `expected an object, got an array ${FROM}`],
    [{ entry: 'a.ts', log: null }, 'log', `expected an object, got null ${FROM}`],
  ]
  for (const [input, path, detail] of cases) assertConfigError(input, path, detail)
})

test('edge values that are allowed pass through', () => {
  const config = resolveConfig(
    { entry: 'a.ts', port: 0, spares: 0, timeouts: { leaseMs: 50, drainMs: 0 }, limits: { maxBodyBytes: 0 } },
    opts,
  )
  assert.equal(config.port, 0)
  assert.equal(config.spares, 0)
  assert.equal(config.timeouts.leaseMs, 50)
  assert.equal(config.timeouts.drainMs, 0)
  assert.equal(config.limits.maxBodyBytes, 0)
  assert.equal(resolveConfig({ entry: 'a.ts', port: 65535 }, opts).port, 65535)
  const state = resolveConfig({ entry: 'a.ts', state: { backend: 'redis', redisUrl: 'rediss://u:p@cache.internal:6380/2', maxCommitRetries: 0 } }, opts).state
  assert.equal(state.backend, 'redis')
  assert.equal(state.redisUrl, 'rediss://u:p@cache.internal:6380/2')
  assert.equal(state.maxCommitRetries, 0)
})

test('the body budget and the front\'s timeouts: bounded integers, errors naming the option', () => {
  const cases: [unknown, string, string][] = [
    [{ entry: 'a.ts', limits: { bufferedBodyMb: 0 } }, 'limits.bufferedBodyMb', `expected a positive integer up to 1048576, got 0 ${FROM}`],
    [{ entry: 'a.ts', limits: { bufferedBodyMb: 0.5 } }, 'limits.bufferedBodyMb', `expected a positive integer up to 1048576, got 0.5 ${FROM}`],
    [{ entry: 'a.ts', limits: { bufferedBodyMb: 2 ** 21 } }, 'limits.bufferedBodyMb', `expected a positive integer up to 1048576, got 2097152 ${FROM}`],
    [{ entry: 'a.ts', limits: { bufferedBodyMb: '256' } }, 'limits.bufferedBodyMb', `expected a positive integer up to 1048576, got "256" ${FROM}`],
    // 0 is not "no limit": a request that never completes must not hold its connection forever.
    [{ entry: 'a.ts', timeouts: { headersMs: 0 } }, 'timeouts.headersMs', `expected a positive integer up to 2147483647, got 0 ${FROM}`],
    [{ entry: 'a.ts', timeouts: { headersMs: 2 ** 31 } }, 'timeouts.headersMs', `expected a positive integer up to 2147483647, got 2147483648 ${FROM}`],
    [{ entry: 'a.ts', timeouts: { bodyMs: -1 } }, 'timeouts.bodyMs', `expected a positive integer up to 2147483647, got -1 ${FROM}`],
    [{ entry: 'a.ts', timeouts: { bodyMs: 1.5 } }, 'timeouts.bodyMs', `expected a positive integer up to 2147483647, got 1.5 ${FROM}`],
  ]
  for (const [input, path, detail] of cases) assertConfigError(input, path, detail)
  const config = resolveConfig({ entry: 'a.ts', limits: { bufferedBodyMb: 1 }, timeouts: { headersMs: 1, bodyMs: 2 ** 31 - 1 } }, opts)
  assert.deepEqual([config.limits.bufferedBodyMb, config.timeouts.headersMs, config.timeouts.bodyMs], [1, 1, 2 ** 31 - 1])
  // A budget smaller than limits.maxBodyBytes is allowed: larger bodies then get 413.
  assert.equal(resolveConfig({ entry: 'a.ts', limits: { bufferedBodyMb: 1, maxBodyBytes: 64 * 1024 * 1024 } }, opts).limits.bufferedBodyMb, 1)
  assertConfigError({ entry: 'a.ts', limits: { bufferedBodyMB: 64 } }, 'limits.bufferedBodyMB', `unknown option (did you mean limits.bufferedBodyMb?) ${FROM}`)
  assertConfigError({ entry: 'a.ts', timeouts: { headerMs: 64 } }, 'timeouts.headerMs', `unknown option (did you mean timeouts.headersMs?) ${FROM}`)
})

test('unknown options are errors, with a suggestion when one is close', () => {
  assertConfigError({ entry: 'a.ts', timeouts: { leasMs: 500 } }, 'timeouts.leasMs', `unknown option (did you mean timeouts.leaseMs?) ${FROM}`)
  assertConfigError({ entry: 'a.ts', limits: { concurency: 2 } }, 'limits.concurency', `unknown option (did you mean limits.concurrency?) ${FROM}`)
  assertConfigError({ entry: 'a.ts', instance: 2 }, 'instance', `unknown option (did you mean instances?) ${FROM}`)
  assertConfigError({ entry: 'a.ts', limits: { maxbodybytes: 1 } }, 'limits.maxbodybytes', `unknown option (did you mean limits.maxBodyBytes?) ${FROM}`)
  // The right name in the wrong section.
  assertConfigError({ entry: 'a.ts', leaseMs: 500 }, 'leaseMs', `unknown option (did you mean timeouts.leaseMs?) ${FROM}`)
  assertConfigError({ entry: 'a.ts', timeouts: { heapMb: 1 } }, 'timeouts.heapMb', `unknown option (did you mean limits.heapMb?) ${FROM}`)
  // Nothing close: no suggestion.
  assertConfigError({ entry: 'a.ts', cluster: true }, 'cluster', `unknown option ${FROM}`)
  assertConfigError({ entry: 'a.ts', replay: { zzz: 1 } }, 'replay.zzz', `unknown option ${FROM}`)
  assertConfigError({ entry: 'a.ts', state: { backnd: 'memory' } }, 'state.backnd', `unknown option (did you mean state.backend?) ${FROM}`)
  assertConfigError({ entry: 'a.ts', rejuvenate: { heapPercnt: 60 } }, 'rejuvenate.heapPercnt', `unknown option (did you mean rejuvenate.heapPercent?) ${FROM}`)
})

test('a non-object config is rejected and named by its source', () => {
  assert.throws(() => resolveConfig(() => ({}), opts), {
    path: '/srv/site/crashless.config.ts',
    message: 'invalid config: /srv/site/crashless.config.ts: expected a config object, got a function',
  })
  assert.throws(() => resolveConfig(['entry'], opts), { message: /expected a config object, got an array/ })
})

test('a missing entry is an error with path entry', () => {
  assert.throws(() => resolveConfig({ port: 80 }, opts), {
    name: 'ConfigError',
    path: 'entry',
    message: /^invalid config: entry: missing: .*not set in \/srv\/site\/crashless\.config\.ts\)$/,
  })
})

test('entry is made absolute against baseDir; absolute entries and file URLs are kept', () => {
  assert.equal(resolveConfig({ entry: './src/app.ts' }, opts).entry, '/srv/site/src/app.ts')
  assert.equal(resolveConfig({ entry: '../other/app.js' }, opts).entry, '/srv/other/app.js')
  assert.equal(resolveConfig({ entry: '/abs/app.ts' }, opts).entry, '/abs/app.ts')
  assert.equal(resolveConfig({ entry: 'file:///abs/app.ts' }, opts).entry, '/abs/app.ts')
})

test('methods are upper-cased and deduplicated; the header is lower-cased', () => {
  const config = resolveConfig(
    { entry: 'a.ts', replay: { methods: ['get', 'Put', 'GET'], idempotencyKeyHeader: 'X-Request-Key' } },
    opts,
  )
  assert.deepEqual(config.replay.methods, ['GET', 'PUT'])
  assert.equal(config.replay.idempotencyKeyHeader, 'x-request-key')
  assert.deepEqual(resolveConfig({ entry: 'a.ts', replay: { methods: [] } }, opts).replay.methods, [])
})

test('undefined options count as absent, so unset command-line flags are not errors', () => {
  assert.deepEqual(validateConfig({ port: undefined, limits: undefined, log: { level: undefined } }, 'command line'), { log: {} })
  assert.equal(resolveConfig({ entry: 'a.ts', port: undefined, instances: undefined }, opts).instances >= 1, true)
})

test('the source in the message says where the value came from', () => {
  assert.throws(() => validateConfig({ port: 'http' }, 'command line'), {
    message: 'invalid config: port: expected a port number from 0 to 65535 (0 picks a free port), got "http" (from command line)',
  })
})

test('immunity.signature: defaults filled in, bad fields named', () => {
  const opts = { baseDir: '/srv', source: 'test' }
  assert.deepEqual(resolveConfig({ entry: 'a.js', immunity: { signature: { query: ['id', 'id'] } } }, opts).immunity.signature, { query: ['id'], body: true })
  assert.deepEqual(resolveConfig({ entry: 'a.js' }, opts).immunity.signature, { query: 'all', body: true })
  assert.throws(() => resolveConfig({ entry: 'a.js', immunity: { signature: { query: 'some' } } }, opts), /immunity\.signature\.query: expected "all", "none" or an array of query parameter names/)
  assert.throws(() => resolveConfig({ entry: 'a.js', immunity: { signature: { headers: true } } }, opts), /immunity\.signature\.headers: expected only the fields query, body and key/)
  assert.throws(() => resolveConfig({ entry: 'a.js', immunity: { signature: { key: 'method' } } }, opts), /immunity\.signature\.key: expected a function \(parts\) => string, got "method"/)
  const key = (parts: { path: string }): string => parts.path
  assert.equal(resolveConfig({ entry: 'a.js', immunity: { signature: { key } } }, opts).immunity.signature.key, key)
})

test('recovery: tweaks named and each at most once, factors bounded', () => {
  const opts = { baseDir: '/srv', source: 'test' }
  assert.deepEqual(resolveConfig({ entry: 'a.js', recovery: { ladder: ['exclusive', 'stack'] } }, opts).recovery.ladder, ['exclusive', 'stack'])
  assert.deepEqual(resolveConfig({ entry: 'a.js', recovery: { ladder: [] } }, opts).recovery.ladder, [])
  assert.throws(() => resolveConfig({ entry: 'a.js', recovery: { ladder: ['fresh', 'teleport'] as never } }, opts), /recovery\.ladder\[1\]: expected one of fresh, exclusive, heap, stack, deadline, reorder, got "teleport"/)
  assert.throws(() => resolveConfig({ entry: 'a.js', recovery: { ladder: ['fresh', 'fresh'] } }, opts), /recovery\.ladder\[1\]: expected each tweak at most once/)
  assert.throws(() => resolveConfig({ entry: 'a.js', recovery: { heapFactor: 0 } }, opts), /recovery\.heapFactor: expected/)
  assert.throws(() => resolveConfig({ entry: 'a.js', recovery: { sacrificial: 0 } }, opts), /recovery\.sacrificial: expected/)
  assert.throws(() => resolveConfig({ entry: 'a.js', immunity: { maxCrashes: 0 } }, opts), /immunity\.maxCrashes: expected/)
  assert.throws(() => resolveConfig({ entry: 'a.js', recovery: { ladders: [] } as never }, opts), /recovery\.ladders/)
})

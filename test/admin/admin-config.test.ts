import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isLoopbackHost, resolveConfig } from '../../src/config/index.js'
import { formatImmunityTable, printable } from '../../src/cli/format-immunity.js'

const resolve = (input: object) => resolveConfig({ entry: '/srv/app.ts', ...input }, { baseDir: '/', source: 'test' })

test('loopback hosts are told apart from everything else', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host)
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', 'localhost.evil.com', '128.0.0.1', '::2', '::ffff:10.0.0.1']) assert.equal(isLoopbackHost(host), false, host)
})

test('admin defaults: enabled on 127.0.0.1:9300, no token; immunity persisted in .crashless/immunity.db', () => {
  const config = resolve({})
  assert.deepEqual(config.admin, { enabled: true, port: 9300, host: '127.0.0.1' })
  assert.equal(config.immunity.store, 'sqlite')
  assert.equal(config.immunity.path, '.crashless/immunity.db')
})

test('a non-loopback admin host needs a token; with one, or disabled, it is fine', () => {
  assert.throws(() => resolve({ admin: { host: '0.0.0.0' } }), { code: 'CRASHLESS_ERR_CONFIG', path: 'admin.token', message: /required when admin\.host is not a loopback address \(admin\.host is "0\.0\.0\.0"\)/ })
  assert.throws(() => resolve({ admin: { host: '10.1.2.3' } }), { path: 'admin.token' })
  assert.equal(resolve({ admin: { host: '0.0.0.0', token: 'a'.repeat(16) } }).admin.token, 'a'.repeat(16))
  assert.equal(resolve({ admin: { host: '0.0.0.0', enabled: false } }).admin.enabled, false)
  assert.equal(resolve({ admin: { host: 'localhost' } }).admin.host, 'localhost')
})

test('admin and immunity options are validated by path', () => {
  assert.throws(() => resolve({ admin: { port: 70000 } }), { path: 'admin.port' })
  assert.throws(() => resolve({ admin: { enabled: 'no' } }), { path: 'admin.enabled', message: /expected true or false/ })
  assert.throws(() => resolve({ admin: { token: 'with space in the token' } }), { path: 'admin.token' })
  assert.throws(() => resolve({ immunity: { store: 'redis-ish' } }), { path: 'immunity.store' })
  assert.throws(() => resolve({ immunity: { path: '' } }), { path: 'immunity.path' })
  assert.throws(() => resolve({ admin: { tokn: 'x' } }), { message: /did you mean admin\.token\?/ })
})

test('the immunity table renders with escaped control characters', () => {
  const now = Date.UTC(2030, 0, 1)
  const text = formatImmunityTable([
    { signature: 'GET /boom #-', failures: 3, lastFailure: 'crash:exception', firstFailureAt: now, quarantinedUntil: now + 90_000, cure: null, incidentId: 'inc-20300101T000000Z-00000001' },
    { signature: 'GET /x\u001b[31m #-', failures: 1, lastFailure: 'exit', firstFailureAt: now, quarantinedUntil: 0 },
    { signature: 'GET /race #-', failures: 2, lastFailure: 'crash:uncaughtException', firstFailureAt: now, quarantinedUntil: 0, cure: 'exclusive', incidentId: null },
  ], now)
  assert.equal(
    text,
    [
      'SIGNATURE            FAILURES  LAST FAILURE             CURE       INCIDENT                       QUARANTINED UNTIL',
      'GET /boom #-         3         crash:exception          -          inc-20300101T000000Z-00000001  2030-01-01T00:01:30.000Z (in 1m 30s)',
      'GET /x\\u001b[31m #-  1         exit                     -          -                              - (not quarantined)',
      'GET /race #-         2         crash:uncaughtException  exclusive  -                              - (not quarantined)',
    ].join('\n'),
  )
  assert.equal(printable('a\nb'), 'a\\u000ab')
})

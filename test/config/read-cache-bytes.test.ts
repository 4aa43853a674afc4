import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readCacheBytes, resolveConfig } from '../../src/config/index.js'
import type { CrashlessConfig } from '../../src/config/index.js'

test('the read cache is on only where this runtime sees every commit of its store', () => {
  const rows: [string, Partial<CrashlessConfig>, number][] = [
    ['sqlite, one runtime (the default)', {}, 16 * 1024 * 1024],
    ['sqlite, readCacheMb 4', { state: { readCacheMb: 4 } }, 4 * 1024 * 1024],
    ['readCacheMb 0 turns it off', { state: { readCacheMb: 0 } }, 0],
    ['sqlite shared by two runtimes', { runtimes: 2 }, 0],
    ['memory with two runtimes: each has its own store', { runtimes: 2, state: { backend: 'memory' } }, 16 * 1024 * 1024],
    ['redis: other runtimes and nodes write it', { state: { backend: 'redis', redisUrl: 'redis://127.0.0.1:6379' } }, 0],
  ]
  for (const [name, options, expected] of rows) {
    const config = resolveConfig({ entry: '/srv/app.js', ...options }, { baseDir: '/', source: 'test' })
    assert.equal(readCacheBytes(config), expected, name)
  }
})

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig, resolveConfig } from '../../src/config/index.js'
import type { ConfigError } from '../../src/errors.js'

test('probes.path takes a path, and anything else is an error naming probes.path', () => {
  for (const path of ['/.crashless', '/health/k8s', '/_probe-1']) {
    assert.equal(resolveConfig({ entry: '/srv/app.ts', probes: { path } }, { baseDir: '/', source: 'test' }).probes.path, path)
  }
  for (const path of ['/', 'crashless', '/x/', '/x?y', '/x#y', '/a/../b', '/./a', '/with space', '', 7]) {
    assert.throws(
      () => resolveConfig({ entry: '/srv/app.ts', probes: { path } }, { baseDir: '/', source: 'test' }),
      (err: ConfigError) => err.code === 'CRASHLESS_ERR_CONFIG' && err.path === 'probes.path',
      JSON.stringify(path),
    )
  }
  assert.equal(resolveConfig({ entry: '/srv/app.ts' }, { baseDir: '/', source: 'test' }).probes.path, undefined)
})

test('$CRASHLESS_ADMIN_TOKEN is the admin token unless the command line says otherwise; a bad one names admin.token and the variable', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'crashless-config-'))
  try {
    writeFileSync(join(cwd, 'crashless.config.mjs'), "export default { entry: './app.mjs', admin: { token: 'from-the-file-0123456789' } }\n")
    const env = { CRASHLESS_ADMIN_TOKEN: 'from-the-environment-0123' }
    assert.equal((await loadConfig({ cwd, overrides: {}, env: {} })).admin.token, 'from-the-file-0123456789')
    assert.equal((await loadConfig({ cwd, overrides: {}, env })).admin.token, 'from-the-environment-0123')
    assert.equal((await loadConfig({ cwd, overrides: {}, env: { CRASHLESS_ADMIN_TOKEN: '' } })).admin.token, 'from-the-file-0123456789', 'empty is unset')
    assert.equal((await loadConfig({ cwd, overrides: { admin: { token: 'from-the-flags-012345678' } }, env })).admin.token, 'from-the-flags-012345678')
    await assert.rejects(loadConfig({ cwd, overrides: {}, env: { CRASHLESS_ADMIN_TOKEN: 'tiny' } }), (err: ConfigError) => err.path === 'admin.token' && /\$CRASHLESS_ADMIN_TOKEN/.test(err.message) && !err.message.includes('tiny'))
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
})

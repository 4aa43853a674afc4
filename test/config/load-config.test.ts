import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { loadConfig } from '../../src/config/index.js'

const root = mkdtempSync(join(tmpdir(), 'crashless-config-'))
after(() => rmSync(root, { recursive: true, force: true }))

let counter = 0
/** A fresh directory under the temp root holding `files` (name -> contents). */
function project(files: Record<string, string>): string {
  const dir = join(root, `p${counter++}`)
  mkdirSync(dir, { recursive: true })
  for (const [name, contents] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), contents)
  }
  return dir
}

test('loads crashless.config.ts from cwd, type annotations and all', async () => {
  const cwd = project({
    'crashless.config.ts': [
      "type Options = { entry: string; port: number; limits: { queue: number } }",
      "const port: number = 4000 + 1",
      "const config: Options = { entry: './src/app.ts', port, limits: { queue: 12 } }",
      'export default config',
    ].join('\n'),
  })
  const config = await loadConfig({ cwd, overrides: {} })
  assert.equal(config.entry, join(cwd, 'src/app.ts'))
  assert.equal(config.port, 4001)
  assert.equal(config.limits.queue, 12)
  assert.equal(config.limits.concurrency, 64)
})

test('loads a .mts config whose options are named exports (no default)', async () => {
  const cwd = project({ 'crashless.config.mts': "export const entry: string = 'app.mts'\nexport const spares = 3\n" })
  const config = await loadConfig({ cwd, overrides: {} })
  assert.equal(config.entry, join(cwd, 'app.mts'))
  assert.equal(config.spares, 3)
})

test('loads crashless.config.js with import()', async () => {
  const cwd = project({
    'package.json': '{ "type": "module" }',
    'crashless.config.js': "export default { entry: 'server.js', timeouts: { leaseMs: 250 }, replay: { methods: ['get'] } }\n",
  })
  const config = await loadConfig({ cwd, overrides: {} })
  assert.equal(config.entry, join(cwd, 'server.js'))
  assert.equal(config.timeouts.leaseMs, 250)
  assert.deepEqual(config.replay.methods, ['GET'])
})

test('crashless.config.ts is preferred over .js when both exist', async () => {
  const cwd = project({
    'crashless.config.ts': "export default { entry: 'from-ts.ts' }\n",
    'crashless.config.mjs': "export default { entry: 'from-mjs.js' }\n",
  })
  assert.equal((await loadConfig({ cwd, overrides: {} })).entry, join(cwd, 'from-ts.ts'))
})

test('an explicit configFile is relative to cwd and its entry relative to the file', async () => {
  const cwd = project({ 'conf/site.mjs': "export default { entry: '../app/main.js', port: 81 }\n" })
  const config = await loadConfig({ cwd, configFile: 'conf/site.mjs', overrides: {} })
  assert.equal(config.entry, join(cwd, 'app/main.js'))
  assert.equal(config.port, 81)
})

test('merge order: defaults < file < command line, option by option', async () => {
  const cwd = project({
    'crashless.config.mjs':
      "export default { entry: 'file-app.js', port: 1111, host: '127.0.0.1', limits: { queue: 5, concurrency: 6 } }\n",
  })
  const config = await loadConfig({
    cwd: join(cwd),
    overrides: { entry: 'cli/app.js', port: 2222, host: undefined, limits: { queue: 50 } },
  })
  assert.equal(config.entry, join(cwd, 'cli/app.js')) // command line, relative to cwd
  assert.equal(config.port, 2222) // command line
  assert.equal(config.host, '127.0.0.1') // file: an undefined flag does not erase it
  assert.equal(config.limits.queue, 50) // command line
  assert.equal(config.limits.concurrency, 6) // file
  assert.equal(config.limits.heapMb, 512) // default
})

test('an override entry is relative to cwd even when the file lives elsewhere', async () => {
  const cwd = project({ 'nested/cfg.mjs': 'export default { port: 9 }\n' })
  const config = await loadConfig({ cwd, configFile: 'nested/cfg.mjs', overrides: { entry: './main.ts' } })
  assert.equal(config.entry, join(cwd, 'main.ts'))
})

test('without any config file, command-line overrides alone are enough', async () => {
  const cwd = project({})
  const config = await loadConfig({ cwd, overrides: { entry: 'app.ts', instances: 2 } })
  assert.equal(config.entry, join(cwd, 'app.ts'))
  assert.equal(config.instances, 2)
})

test('a bad value in the file names the file; a bad flag names the command line', async () => {
  const cwd = project({ 'crashless.config.mjs': "export default { entry: 'a.js', limits: { queue: -1 } }\n" })
  const file = join(cwd, 'crashless.config.mjs')
  await assert.rejects(loadConfig({ cwd, overrides: {} }), {
    name: 'ConfigError',
    path: 'limits.queue',
    message: `invalid config: limits.queue: expected a positive integer, got -1 (from ${file})`,
  })
  const ok = project({ 'crashless.config.mjs': "export default { entry: 'a.js' }\n" })
  await assert.rejects(loadConfig({ cwd: ok, overrides: { timeouts: { leaseMs: 10 } } }), {
    path: 'timeouts.leaseMs',
    message: 'invalid config: timeouts.leaseMs: expected an integer >= 50 up to 2147483647, got 10 (from command line)',
  })
})

test('an unknown option in the file is reported with a suggestion and the file', async () => {
  const cwd = project({ 'crashless.config.ts': "export default { entry: 'a.ts', timeouts: { leasMs: 500 } }\n" })
  await assert.rejects(loadConfig({ cwd, overrides: {} }), {
    path: 'timeouts.leasMs',
    message: `invalid config: timeouts.leasMs: unknown option (did you mean timeouts.leaseMs?) (from ${join(cwd, 'crashless.config.ts')})`,
  })
})

test('a missing entry says where it could have been set', async () => {
  const withFile = project({ 'crashless.config.mjs': 'export default { port: 1 }\n' })
  await assert.rejects(loadConfig({ cwd: withFile, overrides: {} }), {
    path: 'entry',
    message: new RegExp(`^invalid config: entry: missing: .*not set in ${join(withFile, 'crashless.config.mjs')} nor on the command line\\)$`),
  })
  const bare = project({})
  await assert.rejects(loadConfig({ cwd: bare, overrides: {} }), {
    path: 'entry',
    message: /not given on the command line, and no crashless\.config\.ts \/ crashless\.config\.mts/,
  })
})

test('an explicit config file that does not exist is a clear error', async () => {
  const cwd = project({})
  const missing = join(cwd, 'nope.config.ts')
  await assert.rejects(loadConfig({ cwd, configFile: 'nope.config.ts', overrides: { entry: 'a.ts' } }), {
    name: 'ConfigError',
    path: missing,
    message: `invalid config: ${missing}: config file not found`,
  })
})

test('an explicit config file with an unsupported extension is refused', async () => {
  const cwd = project({ 'crashless.json': '{"entry": "a.js"}' })
  await assert.rejects(loadConfig({ cwd, configFile: 'crashless.json', overrides: {} }), {
    path: join(cwd, 'crashless.json'),
    message: /cannot load a \.json config file; use \.ts, \.mts, \.js or \.mjs/,
  })
})

test('a config file with a syntax error is reported with the file and the cause', async () => {
  const cwd = project({ 'crashless.config.ts': 'export default { entry: \n' })
  const file = join(cwd, 'crashless.config.ts')
  const err = await loadConfig({ cwd, overrides: {} }).then(
    () => assert.fail('expected loadConfig to reject'),
    (e: unknown) => e as Error & { path: string; code: string; cause: unknown },
  )
  assert.equal(err.name, 'ConfigError')
  assert.equal(err.code, 'CRASHLESS_ERR_CONFIG')
  assert.equal(err.path, file)
  assert.ok(err.message.startsWith(`invalid config: ${file}: cannot load config file: `), err.message)
  assert.match(err.message, /Unexpected end of file/)
  assert.ok(err.cause instanceof Error)
})

test('a .js config file with a syntax error is reported with the file', async () => {
  const cwd = project({ 'package.json': '{ "type": "module" }', 'crashless.config.js': 'export default {{\n' })
  const file = join(cwd, 'crashless.config.js')
  await assert.rejects(loadConfig({ cwd, overrides: {} }), {
    path: file,
    message: new RegExp(`^invalid config: ${file}: cannot load config file: .*Unexpected token`),
  })
})

test('a config file that throws is reported with the file and the thrown message', async () => {
  for (const name of ['crashless.config.ts', 'crashless.config.mjs']) {
    const cwd = project({ [name]: "throw new Error('database url not set')\nexport default {}\n" })
    const file = join(cwd, name)
    await assert.rejects(loadConfig({ cwd, overrides: {} }), {
      name: 'ConfigError',
      path: file,
      message: `invalid config: ${file}: cannot load config file: database url not set`,
    })
  }
})

test('a config file exporting something other than an object is refused', async () => {
  const cwd = project({ 'crashless.config.mjs': 'export default () => ({ entry: "a.js" })\n' })
  const file = join(cwd, 'crashless.config.mjs')
  await assert.rejects(loadConfig({ cwd, overrides: {} }), {
    path: file,
    message: `invalid config: ${file}: expected a config object, got a function`,
  })
})

/**
 * `crashless env` and `crashless env diff` as a developer runs them (issue 11, point 5): two
 * fingerprints of a real project, taken by the real command in two environments, compared by
 * files, by incident id and against `here`; secrets in the environment never written down.
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { removeTempDirs, runCli, tempDir } from '../admin/run-cli.js'

after(removeTempDirs)

/** A project with one direct dependency installed at `version`. */
function project(dir: string, version: string): void {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shop', dependencies: { 'left-pad': '^1.0.0' } }))
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'shop', lockfileVersion: 3, packages: { 'node_modules/left-pad': { version } } }))
  mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true })
  writeFileSync(join(dir, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version }))
}

interface Difference {
  path: string
  a: unknown
  b: unknown
  weight: number
}

test('env prints the fingerprint; env diff ranks a dependency, flags and a variable above the time zone, noise last', async () => {
  const dir = tempDir()
  project(dir, '1.1.0')
  const env = { TZ: 'UTC', CHECKOUT_MODE: 'v1', SHOP_DB_PASSWORD: 'sekrit-db', DATABASE_URL: 'postgres://shop:sekrit-url@db/shop' }
  const a = await runCli(['env', '--json'], { cwd: dir, env })
  assert.equal(a.code, 0, a.stderr)
  const fp = JSON.parse(a.stdout) as Record<string, unknown> & { env: Record<string, string>; dependencies: Record<string, string>; lockfile: { file: string } }
  for (const key of ['node', 'v8', 'uv', 'openssl', 'execArgv', 'nodeOptions', 'os', 'kernel', 'glibc', 'cpu', 'memory', 'ulimits', 'timeZone', 'locale', 'lockfile', 'dependencies', 'crashless', 'configHash', 'host', 'uptimeS']) assert.ok(key in fp, `no ${key}`)
  assert.deepEqual(fp.dependencies, { 'left-pad': '1.1.0' })
  assert.equal(fp.lockfile.file, 'package-lock.json')
  assert.equal(fp.timeZone, 'UTC')
  assert.equal(fp.env.CHECKOUT_MODE, 'v1')
  assert.equal(fp.env.SHOP_DB_PASSWORD, '[redacted]')
  assert.equal(fp.env.DATABASE_URL, 'postgres://[redacted]@db/shop')
  assert.ok(!a.stdout.includes('sekrit'), 'a secret was printed')
  writeFileSync(join(dir, 'a.json'), a.stdout)

  project(dir, '1.3.0')
  const b = await runCli(['env', '--json'], { cwd: dir, env: { ...env, TZ: 'Asia/Tokyo', CHECKOUT_MODE: 'v2', NODE_OPTIONS: '--max-old-space-size=200', OLDPWD: '/elsewhere' } })
  writeFileSync(join(dir, 'b.json'), b.stdout)

  const diff = await runCli(['env', 'diff', 'a.json', 'b.json', '--json'], { cwd: dir })
  assert.equal(diff.code, 0, diff.stderr)
  const differences = JSON.parse(diff.stdout) as Difference[]
  const order = differences.map((d) => d.path)
  const at = (path: string): number => order.indexOf(path)
  assert.equal(order[0], 'dependencies.left-pad')
  assert.deepEqual([differences[0]!.a, differences[0]!.b], ['1.1.0', '1.3.0'])
  for (const path of ['lockfile.sha256', 'nodeOptions', 'env.CHECKOUT_MODE', 'env.NODE_OPTIONS', 'timeZone', 'env.OLDPWD']) assert.ok(at(path) >= 0, `${path} missing from ${order.join(', ')}`)
  assert.ok(at('dependencies.left-pad') < at('lockfile.sha256') && at('lockfile.sha256') < at('nodeOptions') && at('nodeOptions') < at('env.CHECKOUT_MODE') && at('env.CHECKOUT_MODE') < at('timeZone') && at('timeZone') < at('env.OLDPWD'), order.join(', '))
  assert.ok(!order.includes('env.SHOP_DB_PASSWORD'), 'two redacted values compare equal')
  // Noise comes last: a shell variable, then uptime if it moved.
  assert.ok(order.slice(at('env.OLDPWD')).every((p) => p === 'env.OLDPWD' || p === 'uptimeS'), order.join(', '))

  const table = await runCli(['env', 'diff', 'a.json', 'b.json'], { cwd: dir })
  assert.match(table.stdout.split('\n')[1]!, /^100 +dependencies\.left-pad +1\.1\.0 +1\.3\.0 +a dependency's version/)

  // `here` against a file: the project as it is now, in this environment.
  const here = await runCli(['env', 'diff', 'b.json', 'here', '--json'], { cwd: dir, env: { ...env, TZ: 'Asia/Tokyo', CHECKOUT_MODE: 'v2', NODE_OPTIONS: '--max-old-space-size=200' } })
  const left = (JSON.parse(here.stdout) as Difference[]).map((d) => d.path)
  assert.ok(!left.includes('dependencies.left-pad') && !left.includes('env.CHECKOUT_MODE') && !left.includes('timeZone'), left.join(', '))

  assert.equal((await runCli(['env', 'diff', 'a.json'], { cwd: dir })).code, 2)
  assert.equal((await runCli(['env', 'diff', 'a.json', 'inc-20000101T000000Z-00000000'], { cwd: dir })).code, 1)
})

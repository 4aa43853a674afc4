import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import { createBackend } from '../../src/state/index.js'
import { describeBackendContract } from './backend-contract.js'
import { bytes, text } from './contract-helpers.js'

const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crashless-sqlite-'))
  dirs.push(dir)
  return dir
}

describeBackendContract('sqlite', () => createBackend({ kind: 'sqlite', path: join(tempDir(), 'state.db') }))

/** Frames in the WAL file now: a transaction appends one frame per page it dirtied. */
function walFrames(path: string, pageSize: number): number {
  const wal = `${path}-wal`
  if (!existsSync(wal)) return 0
  const size = statSync(wal).size
  return size === 0 ? 0 : (size - 32) / (24 + pageSize)
}

describe('sqlite backend', () => {
  test('data, versions and expiries persist across close and reopen, and the counter carries on', async () => {
    const path = join(tempDir(), 'nested', 'dir', 'state.db')
    const first = await createBackend({ kind: 'sqlite', path })
    const v1 = await first.commit([], [{ key: 'a', value: bytes('kept') }, { key: 'b', value: bytes('ttl'), ttlMs: 60_000 }])
    assert.ok(v1.ok)
    await first.close()
    const second = await createBackend({ kind: 'sqlite', path })
    try {
      const [a, b] = await second.get(['a', 'b'])
      assert.deepEqual([a!.key, text(a!.value), a!.version, a!.expiresAt], ['a', 'kept', v1.version, null])
      assert.ok(b!.expiresAt! > Date.now() + 50_000)
      const v2 = await second.commit([{ key: 'a', version: v1.version }], [{ key: 'a', value: bytes('next') }])
      assert.ok(v2.ok && v2.version > v1.version, 'versions never repeat across reopen')
    } finally {
      await second.close()
    }
  })

  test('an acknowledged commit survives kill -9 of the process (default path .crashless/state.db, synchronous normal)', async () => {
    const cwd = tempDir()
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd,
      env: { ...process.env, STATE_MODULE: new URL('../../src/state/index.js', import.meta.url).href },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      let output = ''
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the child never committed:\n${output}`)), 15_000)
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          output += chunk
          const match = /^committed .*$/m.exec(output)
          if (match) {
            clearTimeout(timer)
            resolve(match[0])
          }
        })
        child.once('exit', (code) => reject(new Error(`the child exited (code ${code}) before committing:\n${output}`)))
      })
      const exited = once(child, 'exit')
      process.kill(child.pid!, 'SIGKILL')
      const [, signal] = await exited
      assert.equal(signal, 'SIGKILL')
      const versions = JSON.parse(line.slice('committed '.length)) as number[]
      const path = join(cwd, '.crashless', 'state.db')
      assert.ok(statSync(`${path}-wal`).size > 0, 'the commits are in the WAL, never checkpointed by a clean close')
      const reopened = await createBackend({ kind: 'sqlite', path })
      try {
        const found = await reopened.get(versions.map((_, i) => `k${i}`))
        assert.deepEqual(found.map((e) => [e.key, text(e.value), e.version]), versions.map((v, i) => [`k${i}`, `v${i}`, v]))
      } finally {
        await reopened.close()
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })

  test('group commit: commits asked for in one turn share ONE transaction, validated in order', async (t) => {
    const path = join(tempDir(), 'state.db')
    const backend = await createBackend({ kind: 'sqlite', path })
    const probe = new Database(path)
    try {
      const pageSize = probe.pragma('page_size', { simple: true }) as number
      const base = await backend.commit([], [{ key: 'y', value: bytes('0') }])
      assert.ok(base.ok)
      probe.pragma('wal_checkpoint(TRUNCATE)')
      const before = backend.stats()
      // One turn: 50 blind writes, then x read as absent after an earlier commit of the same
      // turn created it, then two commits racing on y from the same read.
      const pending = Array.from({ length: 50 }, (_, i) => backend.commit([], [{ key: `g${i}`, value: bytes(String(i)) }]))
      const createX = backend.commit([], [{ key: 'x', value: bytes('1') }])
      const readXAbsent = backend.commit([{ key: 'x', version: 0 }], [{ key: 'x', value: bytes('2') }])
      const yFirst = backend.commit([{ key: 'y', version: base.version }], [{ key: 'y', value: bytes('first') }])
      const ySecond = backend.commit([{ key: 'y', version: base.version }], [{ key: 'y', value: bytes('second') }])
      const results = await Promise.all([...pending, createX, readXAbsent, yFirst, ySecond])
      const stats = backend.stats()
      assert.deepEqual({ transactions: stats.transactions - before.transactions, commits: stats.commits - before.commits }, { transactions: 1, commits: 54 })
      const grouped = walFrames(path, pageSize)
      assert.deepEqual(results.slice(50).map((r) => r.ok), [true, false, true, false])
      const versions = results.filter((r) => r.ok).map((r) => (r as { version: number }).version)
      assert.deepEqual(versions, versions.map((_, i) => base.version + 1 + i), 'one version per commit, in the order asked')
      assert.equal(text((await backend.get(['y']))[0]!.value), 'first')

      probe.pragma('wal_checkpoint(TRUNCATE)')
      for (let i = 0; i < 50; i++) await backend.commit([], [{ key: `s${i}`, value: bytes(String(i)) }])
      const separate = walFrames(path, pageSize)
      t.diagnostic(`sqlite WAL frames: ${grouped} for 54 commits in one turn, ${separate} for 50 commits in separate turns`)
      assert.ok(grouped >= 1 && grouped * 5 < separate, `the WAL grew by ${grouped} frames for 54 grouped commits, ${separate} for 50 separate ones`)
    } finally {
      probe.close()
      await backend.close()
    }
  })

  test('the file is in WAL mode; expired rows are purged; close finishes commits already asked for', async () => {
    const path = join(tempDir(), 'state.db')
    const backend = await createBackend({ kind: 'sqlite', path, synchronous: 'full' })
    const probe = new Database(path, { readonly: true })
    try {
      assert.equal(probe.pragma('journal_mode', { simple: true }), 'wal')
      await backend.commit([], Array.from({ length: 20 }, (_, i) => ({ key: `t${i}`, value: bytes('x'), ttlMs: 1 })))
      const rows = () => probe.prepare('SELECT count(*) FROM crashless_entries').pluck().get() as number
      assert.equal(rows(), 20, 'expired rows stay until purged')
      assert.equal(backend.purge(Date.now() + 1000), 20)
      assert.equal(rows(), 0)
      const late = backend.commit([], [{ key: 'late', value: bytes('made it') }])
      await backend.close()
      assert.ok((await late).ok)
    } finally {
      probe.close()
      await backend.close()
    }
    const reopened = await createBackend({ kind: 'sqlite', path })
    assert.equal(text((await reopened.get(['late']))[0]!.value), 'made it')
    await reopened.close()
  })

  test('refuses a newer schema, a bad synchronous level and an unopenable path, with CRASHLESS_ERR_STATE', async () => {
    const path = join(tempDir(), 'state.db')
    await (await createBackend({ kind: 'sqlite', path })).close()
    const raw = new Database(path)
    raw.prepare(`UPDATE crashless_meta SET value = 99 WHERE name = 'schema_version'`).run()
    raw.close()
    await assert.rejects(createBackend({ kind: 'sqlite', path }), { code: 'CRASHLESS_ERR_STATE', message: /schema version 99/ })
    await assert.rejects(createBackend({ kind: 'sqlite', path: join(tempDir(), 'x.db'), synchronous: 'sometimes' as never }), { code: 'CRASHLESS_ERR_STATE', message: /synchronous/ })
    const dir = tempDir()
    await assert.rejects(createBackend({ kind: 'sqlite', path: dir }), (err: Error & { code?: string }) => err.code === 'CRASHLESS_ERR_STATE' && err.message.includes(dir))
  })
})

/** The child of the kill -9 test: commits 50 keys in one group and a read-validated one, then idles. */
const CHILD = `
const { createBackend } = await import(process.env.STATE_MODULE)
const backend = await createBackend({ kind: 'sqlite' })
const results = await Promise.all(Array.from({ length: 50 }, (_, i) => backend.commit([], [{ key: 'k' + i, value: Buffer.from('v' + i) }])))
const last = await backend.commit([{ key: 'k0', version: results[0].version }], [{ key: 'k50', value: Buffer.from('v50') }])
if (!last.ok) throw new Error('unexpected conflict')
process.stdout.write('committed ' + JSON.stringify([...results.map((r) => r.version), last.version]) + '\\n')
setInterval(() => {}, 1000)
`

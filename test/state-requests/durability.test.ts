/**
 * kill -9 of the crashless process under a write-heavy load, sqlite backend: after a restart on
 * the same database file, every write acknowledged to a client (a 200) is there, and no request
 * is half-applied (each writes two keys: both exist, or neither). Output commit is what makes
 * the first hold (no 200 before the commit is durable); atomic commits make the second.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { cleanup, send, sendJson, startApp, tempDir } from './harness.js'

after(cleanup)

const LOOPS = 20
const MAX_PER_LOOP = 2_000
const LOAD_MS = 2_000
/** Kill once this many writes were acknowledged (or when the load's time is up). */
const KILL_AFTER_ACKS = 400

test('kill -9 mid-load, then restart: every acknowledged write is present, none half-applied', async (t) => {
  const dir = tempDir()
  const first = await startApp('store-fetch.mjs', {}, dir)
  const sent = new Set<string>()
  const acked = new Set<string>()
  let killed = false
  let kill: () => void = () => {}
  const killedNow = new Promise<void>((resolve) => {
    kill = () => {
      if (killed) return
      killed = true
      first.child.kill('SIGKILL')
      resolve()
    }
  })
  const startedAt = performance.now()
  const loops = Array.from({ length: LOOPS }, async (_, loop) => {
    for (let i = 0; i < MAX_PER_LOOP && !killed && performance.now() - startedAt < LOAD_MS; i++) {
      const key = `w${loop}-${i}`
      sent.add(key)
      try {
        const answer = await send(`${first.url}/put?k=${key}`, { method: 'POST' })
        if (answer.status === 200) acked.add(key)
      } catch {
        // The process was killed under this request: its outcome is unknown to the client.
        return
      }
      if (acked.size >= KILL_AFTER_ACKS) kill()
    }
  })
  await Promise.race([Promise.all(loops).then(() => kill()), killedNow])
  await Promise.all(loops)
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    if (first.child.exitCode !== null || first.child.signalCode !== null) resolve([first.child.exitCode, first.child.signalCode])
    else first.child.once('exit', (c, s) => resolve([c, s]))
  })
  assert.equal(signal, 'SIGKILL', `crashless exited by itself (code ${code})`)
  assert.ok(acked.size >= 100, `only ${acked.size} writes were acknowledged before the kill`)

  const second = await startApp('store-fetch.mjs', {}, dir)
  const { entries } = await sendJson<{ entries: { key: string; value: string }[] }>(`${second.url}/list?prefix=w`)
  const present = new Map(entries.map((e) => [e.key, e.value]))
  t.diagnostic(`${sent.size} sent, ${acked.size} acknowledged, ${present.size / 2} present after restart`)

  const lost = [...acked].filter((key) => present.get(`${key}:a`) !== key || present.get(`${key}:b`) !== key)
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged writes are missing`)
  const half = [...present.keys()].filter((key) => !present.has(key.endsWith(':a') ? key.replace(/:a$/, ':b') : key.replace(/:b$/, ':a')))
  assert.deepEqual(half, [], 'half-applied requests')
  const unknown = [...present.keys()].filter((key) => !sent.has(key.replace(/:[ab]$/, '')))
  assert.deepEqual(unknown, [])
  // The restarted crashless keeps working on the same file.
  const put = await send(`${second.url}/put?k=after-restart`, { method: 'POST' })
  assert.equal(put.status, 200, put.body)
})

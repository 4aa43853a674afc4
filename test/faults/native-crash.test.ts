/**
 * `isolation: 'process'`: a native crash — process.abort(), a segfault (SIGSEGV), an abort from a
 * timer the request started — ends only the child process it happened in. Under 40 benign
 * connections, only the faulty request fails: it is blamed (its handler was published as running
 * before it ran), re-run up the ladder on sacrificial instances, quarantined as POISON after
 * `immunity.maxCrashes` instances, and refused unrun after that; the runtime never dies. And no
 * child process outlives its runtime: after `kill -9` of the runtime, its instances are gone,
 * one stuck in a loop included.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { Agent } from 'undici'
import type { CrashlessProcess } from '../helpers/crashless-process.js'
import { assertBenignUnharmed, assertPoison, assertRefusedUnrun, assertStillServing, eventsSince, send, startWithConfig, stopAll, underBenignLoad, waitForEvents, waitForVerdict } from './harness.js'

const CONNECTIONS = 40
const loadAgent = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 2_000, headersTimeout: 20_000, bodyTimeout: 20_000 })

let server: CrashlessProcess

before(async () => {
  server = await startWithConfig({ isolation: 'process', instances: 2, timeouts: { requestMs: 10_000 } })
})
after(async () => {
  await stopAll()
  await loadAgent.close()
})

/** The pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(name))
    } catch {
      // It exited while we looked.
    }
  }
  return found
}

/** Resolves once none of `pids` exists any more; rejects after `timeoutMs` naming the survivors. */
async function gone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const alive = pids.filter((pid) => existsSync(`/proc/${pid}`) && !/^[^)]*\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1')))
    if (alive.length === 0) return
    if (performance.now() > deadline) throw new Error(`still alive after ${timeoutMs} ms: ${alive.join(', ')}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const crashes = [
  { path: '/fault/abort', signal: 'SIGABRT' },
  { path: '/fault/segv', signal: 'SIGSEGV' },
  // The handler has returned when the abort comes: process.abort() names the request it runs for.
  { path: '/fault/abort-later', signal: 'SIGABRT' },
]

for (const crash of crashes) {
  test(`GET ${crash.path} under ${CONNECTIONS} benign connections: only it fails (POISON), only child processes die`, async (t) => {
    const from = server.logs.length
    const { fault: answer, load } = await underBenignLoad(server.url, () => send(`${server.url}${crash.path}`), { workers: CONNECTIONS, maxPerWorker: 150, dispatcher: loadAgent })
    t.diagnostic(`benign: ${load.ok} ok, ${load.duringFault} during the fault, max ${load.maxMs.toFixed(1)} ms; verdict after ${answer.ms.toFixed(0)} ms`)

    const { requestId, incidentId } = assertPoison(answer)
    assertBenignUnharmed(load)
    const verdict = await waitForVerdict(server, incidentId)
    const spent = verdict.instancesSpent as number
    const lost = await waitForEvents(server, from, 'instance-lost', spent)
    for (const event of lost) {
      const error = event.error as { code?: string; message?: string }
      assert.deepEqual([event.reason, event.culprit, error.code], ['crash', requestId, 'CRASHLESS_ERR_NATIVE_CRASH'], JSON.stringify(event))
      assert.match(error.message ?? '', new RegExp(crash.signal))
    }
    assert.equal(lost[0]!.role, 'serving', 'the first run was on a serving instance')

    await assertRefusedUnrun(server, `${server.url}${crash.path}`, incidentId)
    await assertStillServing(server)
    assert.equal(eventsSince(server, from, 'runtime-died').length, 0, 'the runtime never died')
    assert.equal(server.logs.find((l) => l.event === 'listening')!.pid, server.runtimePid)
  })
}

test('kill -9 of the runtime: its child-process instances end too, one stuck in a loop included', async () => {
  // A long lease: the looping instance is still stuck (not yet replaced) when the runtime dies.
  const looping = await startWithConfig({ isolation: 'process', instances: 2, timeouts: { requestMs: 30_000, leaseMs: 20_000 } })
  const from = looping.logs.length
  void send(`${looping.url}/fault/loop`).catch(() => {})
  await looping.waitForLog((l) => l.event === 'suspect' && looping.logs.indexOf(l) >= from, 10_000)
  const instances = childrenOf(looping.runtimePid)
  // Two serving instances and a spare, at least; a child of the runtime is an instance.
  assert.ok(instances.length >= 3, `instances: ${instances.join(', ')}`)
  process.kill(looping.runtimePid, 'SIGKILL')
  try {
    await gone(instances, 5_000)
  } finally {
    // On failure, survivors hold the runtime's output pipe, and with it this test: end them.
    for (const pid of instances) if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL')
  }
})

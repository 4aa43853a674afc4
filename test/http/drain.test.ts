// SIGTERM: crashless stops accepting, lets in-flight requests finish within timeouts.drainMs,
// closes idle connections, and exits 0 saying whether it drained.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { after, before, test } from 'node:test'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'
import { startGate, type Gate } from './gate.js'
import { send, withTimeout, writeConfig } from './http-harness.js'
import { rawConnect } from './raw-http.js'

const DRAIN_MS = 300
let gate: Gate
let patient: CrashlessProcess
let impatient: CrashlessProcess
let config: ReturnType<typeof writeConfig>

before(async () => {
  gate = await startGate()
  const env = { GATE_PORT: String(gate.port) }
  config = writeConfig({ timeouts: { drainMs: DRAIN_MS } })
  ;[patient, impatient] = await Promise.all([
    startCrashless(fixture('http/node-app.mjs'), ['--instances', '1'], { env }),
    startCrashless(fixture('http/node-app.mjs'), ['--instances', '1', '--config', config.file], { env }),
  ])
})
after(async () => {
  // Both are normally gone by now; stop() is a no-op then, and a SIGKILL backstop otherwise.
  await Promise.all([patient?.stop(5_000), impatient?.stop(5_000)])
  await gate?.close()
  config?.cleanup()
})

/**
 * Tries a new connection and a request on it: `refused` (ECONNREFUSED), `unserved` (the
 * connection was taken, then closed without a byte of response) or `served`.
 */
function attempt(port: number): Promise<'refused' | 'unserved' | 'served'> {
  return withTimeout(
    new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      let received = 0
      socket.once('connect', () => socket.write('GET /echo?late HTTP/1.1\r\nHost: t\r\n\r\n'))
      socket.on('data', (chunk: Buffer) => (received += chunk.length))
      socket.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') resolve('refused')
      })
      socket.once('close', () => resolve(received > 0 ? 'served' : 'unserved'))
    }),
    5_000,
    'a connection attempt during shutdown was left hanging',
  )
}

test('SIGTERM with a request in flight: it completes, new connections are refused, exit 0, drained', async () => {
  const exited = once(patient.child, 'exit')
  // An idle keep-alive connection, which shutdown must close.
  const idle = rawConnect(patient.port, 'GET /echo?idle HTTP/1.1\r\nHost: t\r\n\r\n')
  await idle.waitFor(/"url":"\/echo\?idle"/)
  // A request that is running, and will take 300 ms more once released.
  const inflight = send(`${patient.url}/hold?name=drain&after=300`)
  await gate.arrived('drain')

  patient.child.kill('SIGTERM')
  const shutdown = await patient.waitForLog((l) => l.event === 'shutdown')
  assert.equal(shutdown.signal, 'SIGTERM')
  await withTimeout(idle.closed, 5_000, 'the idle keep-alive connection was not closed')
  // Node's server.close() closes idle connections a moment before the listening socket, so a
  // connection can slip into that window: it is taken and dropped, never served...
  assert.notEqual(await attempt(patient.port), 'served', 'a request on a new connection was served after shutdown began')
  // ...and after that moment (which the attempt above outlived), connections are refused.
  assert.equal(await attempt(patient.port), 'refused', 'a new connection was accepted after shutdown began')

  gate.release('drain')
  const res = await withTimeout(inflight.response, 5_000, 'the in-flight request did not complete')
  assert.equal(res.status, 200)
  assert.equal(res.body, 'released drain')
  assert.equal(res.headers.connection, 'close', 'the in-flight response tells the client the connection ends')

  const [code] = (await withTimeout(exited, 10_000, 'crashless did not exit after draining')) as [number | null]
  assert.equal(code, 0)
  const stopped = await patient.waitForLog((l) => l.event === 'stopped' && l.pid === patient.runtimePid)
  assert.equal(stopped.drained, true)
  assert.equal(stopped.abandoned, 0)
})

test('SIGTERM with a request that never completes: exit 0 after timeouts.drainMs, not drained', async () => {
  const exited = once(impatient.child, 'exit')
  const stuck = send(`${impatient.url}/never?name=stuck`)
  await gate.arrived('stuck')

  const signalled = performance.now()
  impatient.child.kill('SIGTERM')
  const [code] = (await withTimeout(exited, DRAIN_MS + 5_000, 'crashless did not exit after drainMs')) as [number | null]
  const elapsed = performance.now() - signalled
  assert.equal(code, 0)
  assert.ok(elapsed >= DRAIN_MS - 20, `exited after ${elapsed.toFixed(0)} ms, before drainMs`)
  assert.ok(elapsed < DRAIN_MS + 3_000, `exited after ${elapsed.toFixed(0)} ms`)
  const stopped = await impatient.waitForLog((l) => l.event === 'stopped' && l.pid === impatient.runtimePid)
  assert.equal(stopped.drained, false)
  assert.equal(stopped.abandoned, 1)
  // The abandoned client sees its connection end, not a success.
  await assert.rejects(withTimeout(stuck.response, 5_000, 'the abandoned request was left hanging'))
})

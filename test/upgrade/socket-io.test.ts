import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { io, type Socket } from 'socket.io-client'
import { fixture, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'

let server: CrashlessProcess
const sockets: Socket[] = []

/** A socket.io client over the websocket transport only: polling needs sticky sessions. */
async function open(): Promise<{ socket: Socket; hello: { thread: number } }> {
  const socket = io(server.url, { transports: ['websocket'], reconnection: false, timeout: 5000 })
  sockets.push(socket)
  const hello = new Promise<{ thread: number }>((resolve) => socket.once('hello', resolve))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  return { socket, hello: await hello }
}

before(async () => {
  server = await startCrashless(fixture('upgrade/socket-io.mjs'), ['--instances', '2'])
})
after(async () => {
  for (const socket of sockets) socket.disconnect()
  await server?.stop()
})

test('socket.io connects over websocket; emits, acks and server pushes round-trip', async () => {
  const { socket, hello } = await open()
  assert.equal(typeof hello.thread, 'number')
  const reply = (await socket.timeout(5000).emitWithAck('echo', { n: 1, list: ['a', 'b'] })) as { echoed: unknown; thread: number }
  assert.deepEqual(reply, { echoed: { n: 1, list: ['a', 'b'] }, thread: hello.thread })
  const shouted = new Promise<string>((resolve) => socket.once('shouted', resolve))
  socket.emit('shout', 'hello there')
  assert.equal(await shouted, 'HELLO THERE')
})

test('binary payloads survive the relay', async () => {
  const { socket } = await open()
  const payload = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251))
  const reply = (await socket.timeout(5000).emitWithAck('echo', payload)) as { echoed: Buffer }
  assert.ok(payload.equals(Buffer.from(reply.echoed)))
})

test('the app’s plain HTTP routes keep working next to socket.io', async () => {
  await open()
  const res = await fetch(`${server.url}/plain`)
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'http GET /plain')
})

test('a disconnect from the server reaches the client, and the instance serves on', async () => {
  const { socket } = await open()
  const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve))
  socket.emit('bye')
  assert.equal(await closed, 'io server disconnect')
  const again = await open()
  assert.equal(((await again.socket.timeout(5000).emitWithAck('echo', 'x')) as { echoed: string }).echoed, 'x')
})

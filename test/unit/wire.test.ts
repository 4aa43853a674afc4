import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import type { InstanceMessage, RequestMessage, ResponseMessage, ToInstance } from '../../src/protocol.js'
import { INLINE_BODY_BYTES, packFromInstance, packToInstance, unpackFromInstance, unpackToInstance } from '../../src/wire.js'

/** Sends a batch through a real MessagePort, as a worker's port would, and reads it back. */
function cross(batch: unknown[], transfer: ArrayBuffer[] = []): unknown[] {
  const { port1, port2 } = new MessageChannel()
  port1.postMessage(batch, transfer)
  const got = receiveMessageOnPort(port2)!.message as unknown[]
  port1.close()
  return got
}

const request: RequestMessage = {
  type: 'request',
  id: 7,
  seq: 3,
  method: 'POST',
  url: '/a?b=1',
  headerBlock: 'host\0x\0content-type\0text/plain',
  body: new SharedArrayBuffer(4),
  remoteAddress: '127.0.0.1',
  remotePort: 40123,
  scheme: 'http',
}

test('a request survives packing, the port and unpacking; other messages pass as they are', () => {
  const withSession: RequestMessage = { ...request, id: 8, seq: 4, sessionId: 's1' }
  const abort: ToInstance = { type: 'abort', id: 2 }
  const got = unpackToInstance(cross(packToInstance([{ ...request }, abort, { ...withSession }])))
  assert.deepEqual(got[0], { ...request, body: got[0]!.type === 'request' ? got[0]!.body : null })
  assert.ok((got[0] as RequestMessage).body instanceof SharedArrayBuffer, 'the body stays shared')
  assert.deepEqual(got[1], abort)
  assert.equal((got[2] as RequestMessage).sessionId, 's1')
  assert.equal('sessionId' in got[0]!, false, 'no session: no sessionId property')
})

function response(body: Uint8Array | null, headers: ResponseMessage['headers'] = { 'content-type': 'text/plain' }): ResponseMessage {
  return { type: 'response', id: 9, status: 201, statusMessage: 'Made', headers, body }
}

test('a small response crosses with its headers, repeated ones and every byte value intact', () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
  const headers = { 'content-type': 'application/octet-stream', 'set-cookie': ['a=1', 'b=2'], vary: 'accept' }
  const transfer: ArrayBuffer[] = []
  const got = unpackFromInstance(cross(packFromInstance([response(bytes, headers)], transfer), transfer))[0] as ResponseMessage
  assert.equal(transfer.length, 0, 'a small body is not transferred')
  assert.deepEqual(got.headers, headers)
  assert.deepEqual([...got.body!], [...bytes])
  assert.equal(got.status, 201)
  assert.equal(got.statusMessage, 'Made')
})

test('one set-cookie stays an array, no headers and no body stay empty', () => {
  const transfer: ArrayBuffer[] = []
  const one = unpackFromInstance(cross(packFromInstance([response(null, { 'set-cookie': ['only=1'] })], transfer)))[0] as ResponseMessage
  assert.deepEqual(one.headers, { 'set-cookie': ['only=1'] })
  assert.equal(one.body, null)
  const none = unpackFromInstance(cross(packFromInstance([{ ...response(null, {}), statusMessage: undefined }], transfer)))[0] as ResponseMessage
  assert.deepEqual(none.headers, {})
  assert.equal(none.statusMessage, undefined)
})

test("a large body is transferred when it owns its buffer, copied when it is a view into someone else's", () => {
  const own = new Uint8Array(INLINE_BODY_BYTES + 1).fill(7)
  const transfer: ArrayBuffer[] = []
  packFromInstance([response(own)], transfer)
  assert.equal(transfer[0], own.buffer, 'its own buffer moves without a copy')

  const shared = new Uint8Array(INLINE_BODY_BYTES * 4)
  const view = shared.subarray(16, 16 + INLINE_BODY_BYTES + 1).fill(9)
  const transfer2: ArrayBuffer[] = []
  const got = unpackFromInstance(cross(packFromInstance([response(view)], transfer2), transfer2))[0] as ResponseMessage
  assert.notEqual(transfer2[0], shared.buffer, 'a view is copied, never moved')
  assert.equal(shared.byteLength, INLINE_BODY_BYTES * 4, 'the app keeps its buffer')
  assert.equal(got.body!.byteLength, INLINE_BODY_BYTES + 1)
  assert.ok(got.body!.every((b) => b === 9))
})

test('a response with a transaction and other messages are not packed', () => {
  const tx = { reads: [], writes: [{ key: 'k', value: new Uint8Array([1]) }] }
  const withTx = { ...response(new Uint8Array([1])), tx } as ResponseMessage
  const ready = { type: 'taken-back', after: 1, upTo: 2 } as InstanceMessage
  const packed = packFromInstance([withTx, ready], [])
  assert.equal(packed[0], withTx)
  assert.equal(packed[1], ready)
})

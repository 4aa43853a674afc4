/** The in-flight file an instance writes and its keeper reads after the runtime died. */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { formatInFlight, InFlightFile, inFlightPath, parseInFlight, readInFlight } from '../../src/in-flight/index.js'

const dir = mkdtempSync(join(tmpdir(), 'crashless-in-flight-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('what was added and not removed is read back, from every instance of the runtime; the files go', () => {
  const one = InFlightFile.open(dir, 1, 1)
  const two = InFlightFile.open(dir, 1, 2)
  const other = InFlightFile.open(dir, 2, 1)
  const a = one.add('GET /a #-')
  one.add('POST /é?x=1 #3f2a')
  two.add('GET /c #-')
  other.add('GET /other-runtime #-')
  one.remove(a)
  one.flush()
  for (const file of [one, two, other]) file.close()
  assert.deepEqual(readInFlight(dir, 1).sort(), ['GET /c #-', 'POST /é?x=1 #3f2a'])
  assert.equal(existsSync(inFlightPath(dir, 1, 1)), false, 'the keeper removes what it read')
  assert.deepEqual(readdirSync(dir), ['2-1.in-flight'], "another runtime's file is left alone")
})

test('a completed request reads as in flight until the next clearing pass (at most 10 ms), then not', () => {
  const file = InFlightFile.open(dir, 3, 1)
  file.remove(file.add('GET /done #-'))
  assert.deepEqual(readInFlight(dir, 3), ['GET /done #-'])
  const again = InFlightFile.open(dir, 3, 1)
  again.remove(again.add('GET /done #-'))
  again.flush()
  again.close()
  assert.deepEqual(readInFlight(dir, 3), [])
  file.close()
})

test('a request like one that just completed takes its slot back; slots are reused, not grown', () => {
  const file = InFlightFile.open(dir, 4, 1)
  const first = file.add('GET /hot #-')
  file.remove(first)
  assert.equal(file.add('GET /hot #-'), first)
  const other = file.add('GET /cold #-')
  file.remove(other)
  file.flush()
  assert.equal(file.add('GET /third #-'), other, 'a cleared slot is used before the file grows')
  file.close()
  assert.deepEqual(readInFlight(dir, 4).sort(), ['GET /hot #-', 'GET /third #-'])
})

test('a record too long for a slot is not kept, and nothing breaks', () => {
  const file = InFlightFile.open(dir, 5, 1)
  assert.equal(file.add(`GET /${'x'.repeat(5_000)} #-`), -1)
  file.remove(-1)
  file.add('GET /short #-')
  file.close()
  assert.deepEqual(readInFlight(dir, 5), ['GET /short #-'])
})

test('a runtime that wrote no file had nothing in flight', () => {
  assert.deepEqual(readInFlight(dir, 999_999), [])
  assert.deepEqual(readInFlight(join(dir, 'missing'), 1), [])
})

test('records round-trip, URLs with spaces and # included', () => {
  for (const record of [
    { method: 'GET', url: '/kill', bodyHash: '-' },
    { method: 'POST', url: '/a #b?c= d', bodyHash: '3f2a9c0d11b2e4f5' },
  ]) {
    assert.deepEqual(parseInFlight(formatInFlight(record)), record)
  }
  assert.equal(parseInFlight('garbage'), null)
})

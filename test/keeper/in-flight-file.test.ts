/** The in-flight file a runtime writes and its keeper reads after the runtime died. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { InFlightFile, readInFlight } from '../../src/keeper/index.js'

const dir = mkdtempSync(join(tmpdir(), 'crashless-in-flight-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('what was added and not removed is read back; slots are reused', () => {
  const file = InFlightFile.open(dir, 1)
  const a = file.add('GET /a')
  const b = file.add('POST /é?x=1 #3f2a')
  file.add('GET /c')
  file.remove(a)
  const d = file.add('GET /d')
  assert.equal(d, a, 'a freed slot is used again, so the file stays as large as the peak in flight')
  file.remove(b)
  file.close()
  assert.deepEqual(readInFlight(dir, 1).sort(), ['GET /c', 'GET /d'])
  assert.equal(existsSync(join(dir, '1.in-flight')), false, 'the keeper removes the file it read')
})

test('a signature too long for a slot is not recorded, and nothing breaks', () => {
  const file = InFlightFile.open(dir, 2)
  assert.equal(file.add(`GET /${'x'.repeat(5_000)}`), -1)
  file.remove(-1)
  file.add('GET /short')
  file.close()
  assert.deepEqual(readInFlight(dir, 2), ['GET /short'])
})

test('a runtime that never wrote a file had nothing in flight', () => {
  assert.deepEqual(readInFlight(dir, 999_999), [])
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { closest, editDistance } from '../../src/config/did-you-mean.js'

test('editDistance counts insertions, deletions, substitutions and adjacent swaps', () => {
  assert.equal(editDistance('', ''), 0)
  assert.equal(editDistance('queue', 'queue'), 0)
  assert.equal(editDistance('leasMs', 'leaseMs'), 1)
  assert.equal(editDistance('leaseMss', 'leaseMs'), 1)
  assert.equal(editDistance('heapMB', 'heapMb'), 1)
  assert.equal(editDistance('laeseMs', 'leaseMs'), 1)
  assert.equal(editDistance('port', 'host'), 2)
  assert.equal(editDistance('', 'abc'), 3)
})

test('closest finds plausible typos and nothing else', () => {
  const options = ['maxBodyBytes', 'concurrency', 'queue', 'heapMb', 'stackMb']
  assert.equal(closest('concurency', options), 'concurrency')
  assert.equal(closest('MAXBODYBYTES', options), 'maxBodyBytes')
  assert.equal(closest('heap', options), 'heapMb')
  assert.equal(closest('qeue', options), 'queue')
  assert.equal(closest('port', ['host']), undefined)
  assert.equal(closest('timeout', options), undefined)
})

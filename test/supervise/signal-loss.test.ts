import assert from 'node:assert/strict'
import { test } from 'node:test'
import { signalLoss } from '../../src/supervise/signal-loss.js'
import { stackSizeKb } from '../../src/supervise/stack-size.js'

test('a child-process instance dead of a signal: a crash blamed on the running request, or out of memory when its heap was near the cap', () => {
  const rows = [
    { signal: 'SIGSEGV', heapMb: 500, running: 7, reason: 'crash', message: /SIGSEGV \(a crash in native code\)/ },
    { signal: 'SIGABRT', heapMb: 40, running: 7, reason: 'crash', message: /SIGABRT \(an abort\)/ },
    { signal: 'SIGABRT', heapMb: 420, running: null, reason: 'out-of-memory', message: /420 MiB of its 512 MiB cap/ },
    { signal: 'SIGKILL', heapMb: 40, running: 3, reason: 'crash', message: /OOM killer/ },
  ] as const
  for (const row of rows) {
    const loss = signalLoss(row.signal, row.heapMb, 512, row.running)
    assert.equal(loss.reason, row.reason, row.signal)
    assert.equal(loss.culprit, row.running)
    assert.equal(loss.error.code, 'CRASHLESS_ERR_NATIVE_CRASH')
    assert.match(loss.error.message, row.message)
  }
})

test('a child process gets the stack asked for, capped under the OS stack limit', () => {
  const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax stack size            ${soft}              unlimited            bytes\n`
  assert.equal(stackSizeKb(4, limits('8388608')), 4096)
  assert.equal(stackSizeKb(16, limits('8388608')), 8192 - 512)
  assert.equal(stackSizeKb(16, limits('unlimited')), 16 * 1024)
  assert.equal(stackSizeKb(4, ''), 4096, 'unknown limit: 8 MiB assumed')
})

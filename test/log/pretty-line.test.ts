/** The pretty log line: what it shows, in which order, and that client text cannot drive a terminal. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { prettyLine, resolveLogFormat, wantsColour } from '../../src/log/index.js'

const lost = {
  level: 40,
  time: '2026-12-07T07:01:02.345Z',
  name: 'crashless',
  pid: 4242,
  event: 'instance-lost',
  instance: 'i1',
  role: 'serving',
  reason: 'crash',
  error: { name: 'Error', message: 'boom' },
  reserved: 1,
  action: 'replaced by spare',
  swapMs: 0.42,
  msg: 'instance i1 lost (crash); replaced',
}

test('one line: time, level, event, what failed, what was done and how long, then the fields', () => {
  const line = prettyLine(lost, false)
  assert.equal(line, '07:01:02.345 WARN  instance-lost  instance i1 lost (crash); replaced → replaced by spare (swap 0.42 ms)  instance=i1 role=serving reason=crash error=boom pid=4242 reserved=1\n')
})

test('colours only when asked', () => {
  assert.ok(!prettyLine(lost, false).includes('\u001b'))
  assert.ok(prettyLine(lost, true).includes('\u001b[33mWARN \u001b[0m'))
})

test('control characters a client put in a URL are shown escaped, never written raw', () => {
  const line = prettyLine({ level: 30, time: '2026-12-07T07:01:02.345Z', event: 'quarantine-hit', url: '/x?\x1b]0;owned\x07\x1b[2J', msg: 'refused \x1b[31m' }, false)
  const raw = [...line.slice(0, -1)].filter((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f))
  assert.deepEqual(raw, [])
  assert.match(line, /url=\/x\?\\u001b\]0;owned\\u0007\\u001b\[2J/)
})

test('auto is pretty on a terminal and JSON elsewhere; NO_COLOR turns colours off', () => {
  assert.equal(resolveLogFormat('auto', true), 'pretty')
  assert.equal(resolveLogFormat('auto', false), 'json')
  assert.equal(resolveLogFormat('json', true), 'json')
  assert.equal(resolveLogFormat('pretty', false), 'pretty')
  assert.equal(wantsColour(true, {}), true)
  assert.equal(wantsColour(true, { NO_COLOR: '1' }), false)
  assert.equal(wantsColour(false, {}), false)
})

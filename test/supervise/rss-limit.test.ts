import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { parseCgroupLimit, rssLimitMb } from '../../src/supervise/rss-limit.js'

const rows: { text: string; expect: number | null }[] = [
  { text: 'max\n', expect: null },
  { text: '2147483648\n', expect: 2048 },
  { text: '9223372036854771712\n', expect: null },
  { text: '0\n', expect: null },
  { text: '', expect: null },
  { text: 'garbage', expect: null },
]
for (const row of rows) {
  test(`parseCgroupLimit(${JSON.stringify(row.text)}) is ${row.expect}`, () => assert.equal(parseCgroupLimit(row.text), row.expect))
}

const dir = mkdtempSync(join(tmpdir(), 'crashless-cgroup-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

test('rssLimitMb: the cgroup limit applies without configuration, the smaller one when both are set', () => {
  const limited = file('limited', '1073741824\n')
  const none = file('none', 'max\n')
  const missing = join(dir, 'missing')
  assert.equal(rssLimitMb(0, [limited]), 1024)
  assert.equal(rssLimitMb(512, [limited]), 512)
  assert.equal(rssLimitMb(4096, [limited]), 1024)
  assert.equal(rssLimitMb(0, [none]), 0, 'max: no limit')
  assert.equal(rssLimitMb(700, [none]), 700)
  assert.equal(rssLimitMb(0, [missing]), 0, 'outside a cgroup')
  assert.equal(rssLimitMb(0, [missing, limited]), 1024, 'cgroup v1 after v2')
})

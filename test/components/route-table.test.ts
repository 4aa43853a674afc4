import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RouteTable } from '../../src/components/index.js'

test('RouteTable: the longest prefix on a segment boundary wins; the rest goes to the default', () => {
  const table = new RouteTable([['/bids', 'bids'], ['/bids/admin', 'admin'], ['/users', 'users'], ['/u', 'u']], 'default')
  const rows: [string, string][] = [
    ['/bids', 'bids'],
    ['/bids/', 'bids'],
    ['/bids/7', 'bids'],
    ['/bids?item=7', 'bids'],
    ['/bids/admin', 'admin'],
    ['/bids/admin/x?y', 'admin'],
    ['/bids/administrator', 'bids'],
    ['/bidsx', 'default'],
    ['/users/me', 'users'],
    ['/u/1', 'u'],
    ['/us', 'default'],
    ['/', 'default'],
    ['*', 'default'],
    ['http://example.com/bids', 'default'],
  ]
  for (const [url, expect] of rows) assert.equal(table.route(url), expect, url)
  assert.equal(new RouteTable([], 'only').route('/anything'), 'only')
})

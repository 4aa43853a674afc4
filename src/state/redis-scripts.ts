import { createHash } from 'node:crypto'

/**
 * The Lua scripts of the redis backend. A script runs atomically in Redis (nothing else runs
 * while it does), which is what makes "check every read version, then apply every write" one
 * indivisible step without WATCH/MULTI round trips. Keys touched are passed in KEYS (except the
 * index cleanups, which derive entry keys from the namespace: standalone Redis only, or a
 * namespace with a hash tag such as `{crashless}:` on a cluster).
 *
 * Layout under the namespace `ns`: `ns` + `k:<key>` is a hash {v: value, ver: version, e:
 * expiresAt} with PEXPIREAT; `ns` + `version` is the commit counter; `ns` + `index` is a sorted
 * set of every live key (score 0, ordered by bytes for prefix listing); `ns` + `expiry` scores
 * keys with a TTL by expiresAt so stale index members can be found; `ns` + `commit:<id>`
 * records a committed id for a while so a resent commit is not applied twice.
 */

/** A script and its SHA-1, for EVALSHA with EVAL as the fallback. */
export interface RedisScript {
  lua: string
  sha: string
}

function script(lua: string): RedisScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}

/**
 * KEYS: counter, index, expiry, commit record, then the read entries, then the written entries.
 * ARGV: entry key prefix, read count, write count, record TTL ms, the read versions, then four
 * per write: key, 's' (set) or 'd' (delete), value, TTL ms (0: none).
 * Returns {1, version} or {0, i, j, ...}: the 1-based indices of the stale reads.
 */
export const COMMIT_SCRIPT = script(`
local nreads = tonumber(ARGV[2])
local nwrites = tonumber(ARGV[3])
local recorded = redis.call('GET', KEYS[4])
if recorded then return {1, tonumber(recorded)} end
local out = {0}
for i = 1, nreads do
  local current = tonumber(redis.call('HGET', KEYS[4 + i], 'ver') or '0')
  if current ~= tonumber(ARGV[4 + i]) then out[#out + 1] = i end
end
if #out > 1 then return out end
if nwrites == 0 then return {1, tonumber(redis.call('GET', KEYS[1]) or '0')} end
local version = redis.call('INCR', KEYS[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local arg = 4 + nreads
for i = 1, nwrites do
  local entry = KEYS[4 + nreads + i]
  local key = ARGV[arg + 1]
  redis.call('DEL', entry)
  if ARGV[arg + 2] == 'd' then
    redis.call('ZREM', KEYS[2], key)
    redis.call('ZREM', KEYS[3], key)
  else
    local ttl = tonumber(ARGV[arg + 4])
    if ttl > 0 then
      local at = now + ttl
      redis.call('HSET', entry, 'v', ARGV[arg + 3], 'ver', version, 'e', at)
      redis.call('PEXPIREAT', entry, at)
      redis.call('ZADD', KEYS[3], at, key)
    else
      redis.call('HSET', entry, 'v', ARGV[arg + 3], 'ver', version)
      redis.call('ZREM', KEYS[3], key)
    end
    redis.call('ZADD', KEYS[2], 0, key)
  end
  arg = arg + 4
end
-- Index members of expired keys are dropped a few per commit, so the index cannot grow without
-- bound even when nobody lists.
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 8 + 2 * nwrites)
for _, key in ipairs(due) do
  if redis.call('EXISTS', ARGV[1] .. key) == 0 then
    redis.call('ZREM', KEYS[2], key)
    redis.call('ZREM', KEYS[3], key)
  end
end
if tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[4], version, 'PX', ARGV[4]) end
return {1, version}
`)

/**
 * KEYS: index, expiry. ARGV: entry key prefix, min and max (ZRANGEBYLEX syntax), limit (-1: all).
 * Returns a flat array of key, value, version, expiresAt (nil when none) per live entry, in key
 * order; index members whose entry expired are removed on the way.
 */
export const LIST_SCRIPT = script(`
local limit = tonumber(ARGV[4])
local out = {}
local found = 0
local min = ARGV[2]
while limit < 0 or found < limit do
  local want = 256
  if limit >= 0 and limit - found < want then want = limit - found end
  local members = redis.call('ZRANGEBYLEX', KEYS[1], min, ARGV[3], 'LIMIT', 0, want)
  for _, key in ipairs(members) do
    local entry = redis.call('HMGET', ARGV[1] .. key, 'v', 'ver', 'e')
    if entry[2] then
      out[#out + 1] = key
      out[#out + 1] = entry[1]
      out[#out + 1] = entry[2]
      out[#out + 1] = entry[3]
      found = found + 1
    else
      redis.call('ZREM', KEYS[1], key)
      redis.call('ZREM', KEYS[2], key)
    end
  end
  if #members < want then break end
  min = '(' .. members[#members]
end
return out
`)

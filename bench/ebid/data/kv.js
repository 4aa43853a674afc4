// The eBid data layer: a small async key-value interface, the same code path for every peer.
//
//   get(key) -> value | undefined        getMany(keys) -> values
//   set(key, value)                      delete(key)
//   list(prefix, { limit, after }) -> [{ key, value }] in key order
//   update(key, fn) -> new value         fn(current | undefined) returns the new value, or
//                                        undefined to write nothing; atomic per key
//
// Values are JSON. EBID_STORE picks the backend: `crashless` (crashless's store; only importable
// under `crashless run`) or `sqlite` (the file EBID_DB, default ./ebid.sqlite).
const kind = process.env.EBID_STORE ?? 'sqlite'

async function open() {
  if (kind === 'crashless') return (await import('./crashless-kv.js')).openCrashlessKv()
  if (kind === 'sqlite') return (await import('./sqlite-kv.js')).openSqliteKv(process.env.EBID_DB ?? 'ebid.sqlite')
  throw new Error(`EBID_STORE must be crashless or sqlite, got ${JSON.stringify(kind)}`)
}

export const kv = await open()

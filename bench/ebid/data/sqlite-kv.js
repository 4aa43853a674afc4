// The `sqlite` backend: one better-sqlite3 file (EBID_DB) shared by every process of a peer.
// WAL lets readers run beside the one writer; the busy timeout makes a process wait for another's
// write lock instead of failing. Each set/delete is its own autocommit statement, as a plain Node
// app would write; update() is one IMMEDIATE transaction, so a read-modify-write is atomic across
// processes.
import Database from 'better-sqlite3'

const BUSY_TIMEOUT_MS = 5_000

export function openSqliteKv(file) {
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS })
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)')
  const getStmt = db.prepare('SELECT v FROM kv WHERE k = ?').pluck()
  const putStmt = db.prepare('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v')
  const delStmt = db.prepare('DELETE FROM kv WHERE k = ?')
  // SQLite compares TEXT bytewise (UTF-8), which is code point order, like crashless's list().
  const listStmt = db.prepare('SELECT k, v FROM kv WHERE k >= ? AND k > ? AND substr(k, 1, ?) = ? ORDER BY k LIMIT ?')

  const read = (key) => {
    const text = getStmt.get(key)
    return text === undefined ? undefined : JSON.parse(text)
  }
  const write = (key, value) => void putStmt.run(key, JSON.stringify(value))
  const update = db.transaction((key, fn) => {
    const next = fn(read(key))
    if (next !== undefined) write(key, next)
    return next
  })

  return {
    name: 'sqlite',
    async get(key) {
      return read(key)
    },
    async getMany(keys) {
      return keys.map(read)
    },
    async set(key, value) {
      write(key, value)
    },
    async delete(key) {
      delStmt.run(key)
    },
    async list(prefix = '', { limit = -1, after = '' } = {}) {
      return listStmt.all(prefix, after, prefix.length, prefix, limit).map(({ k, v }) => ({ key: k, value: JSON.parse(v) }))
    },
    async update(key, fn) {
      return update.immediate(key, fn)
    },
  }
}

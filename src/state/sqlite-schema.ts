import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { StateError } from './state-error.js'

/** SQLite's `synchronous` levels, weakest first. */
export type SqliteSynchronous = 'off' | 'normal' | 'full' | 'extra'

/** The schema this code writes; a file with a newer one is refused rather than misread. */
export const SCHEMA_VERSION = 1

/** Prepared statements of the sqlite backend (prepared once: parsing SQL per call would dominate). */
export interface SqliteStatements {
  versionOf: BetterSqlite3.Statement<[Buffer, number], number>
  getEntry: BetterSqlite3.Statement<[Buffer, number], EntryRow>
  list: BetterSqlite3.Statement<[{ prefix: Buffer; after: Buffer; upper: Buffer; now: number; limit: number }], EntryRow>
  upsert: BetterSqlite3.Statement<[Buffer, Buffer, number, number | null]>
  remove: BetterSqlite3.Statement<[Buffer]>
  readCounter: BetterSqlite3.Statement<[], number>
  writeCounter: BetterSqlite3.Statement<[number]>
  purge: BetterSqlite3.Statement<[number, number]>
}

/** A row as read: keys are stored as UTF-8 BLOBs so that SQLite orders them by bytes. */
export interface EntryRow {
  key: Buffer
  value: Buffer
  version: number
  expiresAt: number | null
}

const LIVE = '(expires_at IS NULL OR expires_at > ?)'

/**
 * Opens (creating if needed) the state database: WAL journal, the asked `synchronous` level,
 * the schema, and the prepared statements. Throws a StateError naming the file on failure.
 *
 * @example
 * ```ts
 * const { db, statements } = openSqlite(Database, '.crashless/state.db', 'normal', 2000)
 * ```
 */
export function openSqlite(Database: typeof BetterSqlite3, path: string, synchronous: SqliteSynchronous, busyTimeoutMs: number): { db: BetterSqlite3.Database; statements: SqliteStatements } {
  let db: BetterSqlite3.Database | undefined
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    db = new Database(path, { timeout: busyTimeoutMs })
    // WAL: readers never block the writer, and a commit is one append to the log. With
    // synchronous=NORMAL the log is not fsynced per commit, yet a committed transaction survives
    // the process being killed (the OS holds the written pages); only a power loss or OS crash
    // can drop the last commits. 'full' fsyncs every commit (group commit amortises it).
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${synchronous.toUpperCase()}`)
    createSchema(db, path)
    return { db, statements: prepare(db) }
  } catch (err) {
    db?.close()
    if (err instanceof StateError) throw err
    throw new StateError(`cannot open the sqlite state store ${path}: ${(err as Error).message}`, { cause: err })
  }
}

function createSchema(db: BetterSqlite3.Database, path: string): void {
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS crashless_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS crashless_entries (
        key BLOB NOT NULL PRIMARY KEY,
        value BLOB NOT NULL,
        version INTEGER NOT NULL,
        expires_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS crashless_entries_expiry ON crashless_entries (expires_at) WHERE expires_at IS NOT NULL;
    `)
    const found = db.prepare(`SELECT value FROM crashless_meta WHERE name = 'schema_version'`).pluck().get() as number | undefined
    if (found === undefined) {
      db.prepare(`INSERT INTO crashless_meta (name, value) VALUES ('schema_version', ?), ('commit_version', 0)`).run(SCHEMA_VERSION)
    } else if (found > SCHEMA_VERSION) {
      throw new StateError(`the sqlite state store ${path} has schema version ${found}, newer than this crashless understands (${SCHEMA_VERSION}); upgrade crashless`)
    }
  }).immediate()
}

function prepare(db: BetterSqlite3.Database): SqliteStatements {
  const columns = 'key, value, version, expires_at AS expiresAt'
  return {
    versionOf: db.prepare<[Buffer, number], number>(`SELECT version FROM crashless_entries WHERE key = ? AND ${LIVE}`).pluck(),
    getEntry: db.prepare<[Buffer, number], EntryRow>(`SELECT ${columns} FROM crashless_entries WHERE key = ? AND ${LIVE}`),
    list: db.prepare<[{ prefix: Buffer; after: Buffer; upper: Buffer; now: number; limit: number }], EntryRow>(
      `SELECT ${columns} FROM crashless_entries
       WHERE key >= @prefix AND key > @after AND key < @upper AND (expires_at IS NULL OR expires_at > @now)
       ORDER BY key LIMIT @limit`,
    ),
    upsert: db.prepare<[Buffer, Buffer, number, number | null]>(
      `INSERT INTO crashless_entries (key, value, version, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version, expires_at = excluded.expires_at`,
    ),
    remove: db.prepare<[Buffer]>('DELETE FROM crashless_entries WHERE key = ?'),
    readCounter: db.prepare<[], number>(`SELECT value FROM crashless_meta WHERE name = 'commit_version'`).pluck(),
    writeCounter: db.prepare<[number]>(`UPDATE crashless_meta SET value = ? WHERE name = 'commit_version'`),
    // Bounded per run so that a purge after a long pause never stalls the dispatcher's thread.
    purge: db.prepare<[number, number]>(
      'DELETE FROM crashless_entries WHERE rowid IN (SELECT rowid FROM crashless_entries WHERE expires_at <= ? LIMIT ?)',
    ),
  }
}

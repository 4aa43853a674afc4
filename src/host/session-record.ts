import { CrashlessError } from '../errors.js'

/**
 * A cookie session is one store record holding all of its keys, so that it expires, is refreshed
 * and is destroyed as one thing (never half a session), in one write. The record maps each key
 * to its value as `session` encoded it (see value-codec.ts): a version byte, then for each entry
 * a 4-byte key length, the key (UTF-8), a 4-byte value length and the value.
 */

const VERSION = 1

/**
 * @example
 * ```ts
 * const bytes = encodeSessionRecord(new Map([['user', encodeValue('user', 'ada')]]))
 * decodeSessionRecord(bytes).get('user') // the encoded value
 * ```
 */
export function encodeSessionRecord(entries: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const keys = [...entries.keys()].map((key) => Buffer.from(key, 'utf8'))
  let size = 1
  let i = 0
  for (const value of entries.values()) size += 8 + keys[i++]!.byteLength + value.byteLength
  const out = Buffer.allocUnsafeSlow(size)
  out[0] = VERSION
  let offset = 1
  i = 0
  for (const value of entries.values()) {
    const key = keys[i++]!
    offset = out.writeUInt32BE(key.byteLength, offset)
    offset += key.copy(out, offset)
    offset = out.writeUInt32BE(value.byteLength, offset)
    out.set(value, offset)
    offset += value.byteLength
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** Reads what `encodeSessionRecord` wrote; throws CRASHLESS_ERR_STATE on anything else. */
export function decodeSessionRecord(bytes: Uint8Array): Map<string, Uint8Array> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer[0] !== VERSION) throw new CrashlessError('CRASHLESS_ERR_STATE', `a session record has an unknown format (${String(buffer[0])})`)
  const entries = new Map<string, Uint8Array>()
  let offset = 1
  try {
    while (offset < buffer.byteLength) {
      const keyLength = buffer.readUInt32BE(offset)
      const key = buffer.toString('utf8', offset + 4, offset + 4 + keyLength)
      offset += 4 + keyLength
      const valueLength = buffer.readUInt32BE(offset)
      if (offset + 4 + valueLength > buffer.byteLength) throw new RangeError('truncated value')
      entries.set(key, bytes.slice(offset + 4, offset + 4 + valueLength))
      offset += 4 + valueLength
    }
  } catch (err) {
    throw new CrashlessError('CRASHLESS_ERR_STATE', `a session record is damaged: ${(err as Error).message}`, { cause: err })
  }
  return entries
}

/** Marks a session value that expires on its own: 't', an 8-byte expiry (epoch ms), the value. */
const TIMED = 0x74

/**
 * Wraps an encoded session value with its own expiry (`session.set(key, value, { ttlMs })`).
 * Value-codec encodings start with 'j' or 'b', so a 't' first byte is never ambiguous.
 *
 * @example
 * ```ts
 * const stored = wrapExpiring(encodeValue('otp', '123456'), Date.now() + 60_000)
 * unwrapLive(stored, Date.now()) // the encoded value, until the minute is up; then undefined
 * ```
 */
export function wrapExpiring(value: Uint8Array, expiresAt: number): Uint8Array {
  const out = Buffer.allocUnsafeSlow(9 + value.byteLength)
  out[0] = TIMED
  out.writeDoubleBE(expiresAt, 1)
  out.set(value, 9)
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** The value as stored, unwrapped; undefined when it had its own expiry and it has passed. */
export function unwrapLive(stored: Uint8Array, now: number): Uint8Array | undefined {
  if (stored[0] !== TIMED) return stored
  if (stored.byteLength < 9) throw new CrashlessError('CRASHLESS_ERR_STATE', 'a session value is damaged: truncated expiry')
  const expiresAt = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).readDoubleBE(1)
  return expiresAt > now ? stored.subarray(9) : undefined
}

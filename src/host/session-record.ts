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

import { CrashlessError } from '../errors.js'

/**
 * How `store` and `session` values are kept as bytes: one tag byte, then the payload. JSON is
 * the default; a Uint8Array (a Buffer included) is kept as raw bytes, so images or protobufs
 * round-trip exactly instead of growing into a JSON array of numbers.
 */

const JSON_TAG = 0x6a // 'j'
const BINARY_TAG = 0x62 // 'b'

/** A value the stores accept: anything JSON.stringify keeps, or bytes. */
export type Storable = Uint8Array | string | number | boolean | null | object

/**
 * Encodes a value for the store; throws CRASHLESS_ERR_STATE for what JSON cannot carry
 * (undefined, functions, symbols, BigInt, cycles), at the call that tried to store it.
 *
 * @example
 * ```ts
 * encodeValue({ n: 1 })               // bytes 'j{"n":1}'
 * encodeValue(new Uint8Array([1, 2])) // bytes 'b' 0x01 0x02
 * ```
 */
export function encodeValue(key: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    // A copy: the caller may reuse its buffer before the request commits.
    const out = new Uint8Array(value.byteLength + 1)
    out[0] = BINARY_TAG
    out.set(value, 1)
    return out
  }
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (err) {
    throw new CrashlessError('CRASHLESS_ERR_STATE', `cannot store ${JSON.stringify(key)}: ${(err as Error).message}`, { cause: err })
  }
  if (json === undefined) {
    throw new CrashlessError('CRASHLESS_ERR_STATE', `cannot store ${JSON.stringify(key)}: ${typeof value} is not JSON (use delete() to remove a key)`)
  }
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(json) + 1)
  out[0] = JSON_TAG
  out.write(json, 1, 'utf8')
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/**
 * Decodes stored bytes: parsed JSON (a fresh object every call, so callers may mutate it), or a
 * fresh Uint8Array for binary values.
 *
 * @example
 * ```ts
 * decodeValue('k', encodeValue('k', [1, 2])) // [1, 2]
 * ```
 */
export function decodeValue(key: string, bytes: Uint8Array): unknown {
  const tag = bytes[0]
  if (tag === JSON_TAG) return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 1, bytes.byteLength - 1).toString('utf8'))
  if (tag === BINARY_TAG) return bytes.slice(1)
  throw new CrashlessError('CRASHLESS_ERR_STATE', `the stored value of ${JSON.stringify(key)} was not written through store/session (unknown tag ${String(tag)})`)
}

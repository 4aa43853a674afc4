import nodeCrypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'

/** The sources of nondeterminism a tape covers (see src/tape.ts). */
export type NondeterministicSource = 'now' | 'perf' | 'random' | 'uuid' | 'bytes'

/**
 * Decides what one call of a wrapped source returns. `live` calls the real function. For
 * `bytes`, `fill` writes the result into the caller's array (getRandomValues) or a new Buffer.
 */
export interface Interposer {
  value(source: 'now' | 'perf' | 'random', live: () => number): number
  uuid(live: () => string): string
  bytes(target: Uint8Array, live: () => void): void
}

let installed = false

/**
 * Wraps Date.now, performance.now, Math.random, crypto.randomUUID, crypto.getRandomValues and
 * crypto.randomBytes (sync form) with `through`, for a recording (sacrificial instance) or a
 * replay. Installed at most once per thread, and only there: serving instances never call this,
 * so their requests run on the untouched built-ins. Node's own internals use captured
 * primordials and are not affected. `node:crypto`'s ESM named exports are re-synced, so
 * `import { randomUUID } from 'node:crypto'` sees the wrapper too; a CommonJS module that copied
 * the function into a variable before this ran (`const { randomUUID } = require('crypto')`) keeps
 * the real one and is not recorded.
 *
 * @example
 * ```ts
 * interpose({ value: (source, live) => live(), uuid: (live) => live(), bytes: (target, live) => live() })
 * ```
 */
export function interpose(through: Interposer): void {
  if (installed) return
  installed = true
  const dateNow = Date.now.bind(Date)
  const perfNow = performance.now.bind(performance)
  const mathRandom = Math.random.bind(Math)
  Date.now = () => through.value('now', dateNow)
  performance.now = () => through.value('perf', perfNow)
  Math.random = () => through.value('random', mathRandom)

  // Typed loosely: the DOM and Node typings of webcrypto disagree, and only behaviour matters here.
  const web = globalThis.crypto as unknown as { randomUUID(): string; getRandomValues(array: unknown): unknown }
  const webUuid = web.randomUUID.bind(web)
  const webFill = web.getRandomValues.bind(web)
  web.randomUUID = () => through.uuid(webUuid)
  web.getRandomValues = (array: unknown): unknown => {
    // Anything but a typed array is the real function's to refuse; other views are recorded as their bytes.
    if (!ArrayBuffer.isView(array) || array instanceof DataView) return webFill(array)
    through.bytes(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), () => void webFill(array))
    return array
  }

  // node:crypto's getRandomValues is a getter that hands out webcrypto's (wrapped above).
  const mutable = nodeCrypto as { randomUUID: typeof nodeCrypto.randomUUID; randomBytes: typeof nodeCrypto.randomBytes }
  const nodeUuid = mutable.randomUUID.bind(nodeCrypto)
  const nodeBytes = mutable.randomBytes.bind(nodeCrypto) as (size: number, callback?: unknown) => Buffer
  mutable.randomUUID = ((options?: Parameters<typeof nodeCrypto.randomUUID>[0]) => through.uuid(() => nodeUuid(options))) as typeof nodeCrypto.randomUUID
  mutable.randomBytes = ((size: number, callback?: unknown) => {
    // The callback form hands the bytes over later, outside what a tape can order: left live.
    if (typeof callback === 'function') return nodeBytes(size, callback)
    const out = Buffer.alloc(size)
    through.bytes(out, () => void nodeBytes(size).copy(out))
    return out
  }) as typeof nodeCrypto.randomBytes
  syncBuiltinESMExports()
}

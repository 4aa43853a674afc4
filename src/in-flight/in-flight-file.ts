import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/** Set in a runtime's environment by its keeper: the folder of the in-flight files. */
export const IN_FLIGHT_DIR_ENV = 'CRASHLESS_IN_FLIGHT_DIR'

/** Bytes per slot: a 2-byte length, then the record in UTF-8. */
const SLOT = 2048

/** How long a completed request may still read as in flight before its slot is cleared on disk. */
const CLEAR_AFTER_MS = 10

/** The in-flight file of one instance (thread `threadId`) of runtime `pid`. */
export function inFlightPath(dir: string, pid: number, threadId: number): string {
  return join(dir, `${pid}-${threadId}.in-flight`)
}

/**
 * The requests an instance has in flight, kept where its keeper can read them after the whole
 * runtime process died (a request that kills its process leaves nothing else behind). One
 * fixed-size slot per request, written in place with `pwrite`: the bytes are in the kernel's page
 * cache when the call returns, so they survive the process (not the machine, which takes the
 * keeper too), without fsync. Each instance thread has its own file, so no locking.
 *
 * Cheap by design, since every request passes here: a slot keeps what it last held, a request
 * like one that just completed takes that slot back without writing anything, and completed
 * slots are cleared on disk in one pass every {@link CLEAR_AFTER_MS} ms. The price: a request
 * completed less than that before a death still reads as in flight.
 *
 * @example
 * ```ts
 * const file = InFlightFile.open(dir, process.pid, threadId)
 * const slot = file.add('GET /kill #-')   // before the handler runs
 * file.remove(slot)                       // once it completed
 * ```
 */
export class InFlightFile {
  /** What each slot holds on disk ('' for cleared). */
  private readonly held: string[] = []
  /** Free slots by what they still hold on disk. */
  private readonly free = new Map<string, number[]>()
  private readonly toClear = new Set<number>()
  private timer: NodeJS.Timeout | null = null
  private readonly buffer = Buffer.alloc(SLOT)
  private readonly empty = Buffer.alloc(2)

  private constructor(private readonly fd: number) {}

  /** Creates (truncates) the file of instance `threadId` of runtime `pid` in `dir`. */
  static open(dir: string, pid: number, threadId: number): InFlightFile {
    return new InFlightFile(openSync(inFlightPath(dir, pid, threadId), 'w'))
  }

  /** Records a request in flight; returns its slot, or -1 when the record is too long to keep. */
  add(record: string): number {
    const same = this.free.get(record)
    if (same) {
      const slot = same.pop()!
      // Empty lists go: a flood of distinct requests must not grow the map.
      if (same.length === 0) this.free.delete(record)
      this.toClear.delete(slot)
      return slot
    }
    const length = Buffer.byteLength(record)
    if (length > SLOT - 2) return -1
    const slot = this.takeFree() ?? this.held.length
    this.buffer.writeUInt16LE(length, 0)
    this.buffer.write(record, 2, 'utf8')
    writeSync(this.fd, this.buffer, 0, length + 2, slot * SLOT)
    this.held[slot] = record
    return slot
  }

  /** The request of `slot` completed (or was answered otherwise): no longer in flight. */
  remove(slot: number): void {
    if (slot < 0) return
    const record = this.held[slot]!
    const list = this.free.get(record)
    if (list) list.push(slot)
    else this.free.set(record, [slot])
    if (record === '') return
    this.toClear.add(slot)
    this.timer ??= setTimeout(() => this.flush(), CLEAR_AFTER_MS).unref()
  }

  /** Clears on disk now the slots of requests that completed (otherwise done within 10 ms). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.clear()
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer)
    closeSync(this.fd)
  }

  private takeFree(): number | undefined {
    // Prefer a slot already cleared on disk; else any free one (overwritten right away).
    const cleared = this.free.get('')
    if (cleared) {
      const slot = cleared.pop()!
      if (cleared.length === 0) this.free.delete('')
      return slot
    }
    for (const [record, slots] of this.free) {
      const slot = slots.pop()!
      if (slots.length === 0) this.free.delete(record)
      this.toClear.delete(slot)
      return slot
    }
    return undefined
  }

  private clear(): void {
    this.timer = null
    for (const slot of this.toClear) {
      const record = this.held[slot]!
      const list = this.free.get(record)!
      list.splice(list.indexOf(slot), 1)
      if (list.length === 0) this.free.delete(record)
      writeSync(this.fd, this.empty, 0, 2, slot * SLOT)
      this.held[slot] = ''
      const cleared = this.free.get('')
      if (cleared) cleared.push(slot)
      else this.free.set('', [slot])
    }
    this.toClear.clear()
  }
}

/**
 * What every instance of runtime `pid` had in flight when it stopped, read by its keeper; the
 * files are removed. Empty when it kept none.
 *
 * @example
 * ```ts
 * readInFlight(dir, 4242) // ['GET /kill #-', 'GET / #-']
 * ```
 */
export function readInFlight(dir: string, pid: number): string[] {
  if (!existsSync(dir)) return []
  const found: string[] = []
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`${pid}-`) || !name.endsWith('.in-flight')) continue
    const path = join(dir, name)
    const bytes = readFileSync(path)
    rmSync(path, { force: true })
    for (let at = 0; at + 2 <= bytes.length; at += SLOT) {
      const length = bytes.readUInt16LE(at)
      if (length > 0 && at + 2 + length <= bytes.length) found.push(bytes.toString('utf8', at + 2, at + 2 + length))
    }
  }
  return found
}

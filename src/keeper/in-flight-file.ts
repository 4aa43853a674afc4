import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/** Set in a runtime's environment by its keeper: the folder of the in-flight files. */
export const IN_FLIGHT_DIR_ENV = 'CRASHLESS_IN_FLIGHT_DIR'

/** Bytes per slot: a 2-byte length, then the signature in UTF-8. */
const SLOT = 2048

/** Where a runtime's in-flight file is. */
export function inFlightPath(dir: string, pid: number): string {
  return join(dir, `${pid}.in-flight`)
}

/**
 * The signatures a runtime has in flight, kept where its keeper can read them after the runtime
 * died (a request that kills its whole process leaves nothing else behind). One fixed-size slot
 * per request in flight, written in place with `pwrite`: the bytes are in the kernel's page
 * cache when the call returns, so they survive the process (not the machine, which takes the
 * keeper too). Two syscalls per request, about 1-2 µs each, and no fsync: nothing here has to
 * outlive the machine. The folder is on tmpfs (/dev/shm) where there is one.
 *
 * @example
 * ```ts
 * const file = InFlightFile.open(dir, process.pid)
 * const slot = file.add('GET /kill')   // before the request is handed to an instance
 * file.remove(slot)                    // once it completed
 * ```
 */
export class InFlightFile {
  private readonly free: number[] = []
  private slots = 0
  private readonly buffer = Buffer.alloc(SLOT)
  private readonly empty = Buffer.alloc(2)

  private constructor(private readonly fd: number) {}

  /** Creates (truncates) the file of runtime `pid` in `dir`. */
  static open(dir: string, pid: number): InFlightFile {
    return new InFlightFile(openSync(inFlightPath(dir, pid), 'w'))
  }

  /** Records a signature in flight; returns its slot, or -1 when it is too long to record. */
  add(signature: string): number {
    const length = Buffer.byteLength(signature)
    if (length > SLOT - 2) return -1
    const slot = this.free.pop() ?? this.slots++
    this.buffer.writeUInt16LE(length, 0)
    this.buffer.write(signature, 2, 'utf8')
    writeSync(this.fd, this.buffer, 0, length + 2, slot * SLOT)
    return slot
  }

  /** The request of `slot` completed (or failed and was answered): it is no longer in flight. */
  remove(slot: number): void {
    if (slot < 0) return
    writeSync(this.fd, this.empty, 0, 2, slot * SLOT)
    this.free.push(slot)
  }

  close(): void {
    closeSync(this.fd)
  }
}

/**
 * The signatures runtime `pid` had in flight when it stopped, read by its keeper; the file is
 * removed. Empty when the runtime kept none.
 *
 * @example
 * ```ts
 * readInFlight(dir, 4242) // ['GET /kill', 'GET /']
 * ```
 */
export function readInFlight(dir: string, pid: number): string[] {
  const path = inFlightPath(dir, pid)
  if (!existsSync(path)) return []
  const bytes = readFileSync(path)
  rmSync(path, { force: true })
  const found: string[] = []
  for (let at = 0; at + 2 <= bytes.length; at += SLOT) {
    const length = bytes.readUInt16LE(at)
    if (length > 0 && at + 2 + length <= bytes.length) found.push(bytes.toString('utf8', at + 2, at + 2 + length))
  }
  return found
}

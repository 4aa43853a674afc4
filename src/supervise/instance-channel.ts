import type { InstanceInit, InstanceMessage, TakenBackMessage, ToInstance } from '../protocol.js'

/** Where instances run: worker threads (the default) or child processes. */
export type Isolation = 'worker' | 'process'

/** Requests posted to an instance and taken back before they started: seqs after `after`, up to `upTo`. */
export interface TakenBack {
  after: number
  upTo: number
}

/**
 * True when the request numbered `seq` is among those `takeBack()` returned (seqs are Int32 and
 * wrap, hence the subtractions).
 *
 * @example
 * ```ts
 * const taken = instance.takeBack()
 * if (taken !== null) for (const job of jobs) if (isTakenBack(job.seq, taken)) requeue(job)
 * ```
 */
export function isTakenBack(seq: number, taken: TakenBack): boolean {
  return ((seq - taken.after) | 0) > 0 && ((taken.upTo - seq) | 0) >= 0
}

/** What a channel reports about its instance. */
export interface ChannelEvents {
  onBatch: (batch: InstanceMessage[]) => void
  onError: (err: Error) => void
  /** The instance ended: its exit code, or the signal that ended it (child processes only). */
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void
}

/** An instance's limits that the operating system or V8 applies from outside. */
export interface ChannelLimits {
  heapMb: number
  stackMb: number
}

/**
 * The dispatcher's end of one instance, whatever isolates it: how messages reach it, where its
 * lease block is read, how requests are taken back and how it is ended. Instance
 * (instance.ts) holds everything else, identical in both modes.
 */
export interface InstanceChannel {
  /**
   * The lease block (see LeaseSlot) as last seen: the shared block itself for a worker thread,
   * a copy for a child process, brought up to date by `refresh`.
   */
  readonly lease: Int32Array
  /** Whose threads /proc lists the instance's thread under: `self`, or the child's pid. */
  readonly procPid: number | 'self'
  send(batch: ToInstance[], transfer: ArrayBuffer[]): void
  /** Brings `lease` up to date (a child process: one pread; a worker: nothing to do). */
  refresh(): void
  /**
   * Takes back requests posted up to `posted` and not started. A worker's is immediate; a child
   * process's answer comes later (`takenBack`), and this returns it on the call after it came.
   */
  takeBack(posted: number, post: (message: ToInstance) => void): TakenBack | null
  /** The child's answer to a take-back; true when it took some back (call takeBack again). */
  takenBack(message: TakenBackMessage): boolean
  /** Ends the instance at once; resolves once it is gone. */
  terminate(): Promise<void>
  /** The instance's own resident memory, MiB: null for a worker thread (it is the runtime's). */
  ownRssMb(): number | null
}

/** InstanceInit without the lease block, which the channel provides. */
export type ChannelInit = Omit<InstanceInit, 'heartbeat'>

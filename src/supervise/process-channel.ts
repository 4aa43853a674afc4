import { fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { workerEntryUrl } from '../host/index.js'
import { INSTANCE_ENV, type InstanceInit, type RequestMessage, type TakenBackMessage, type ToInstance } from '../protocol.js'
import type { ChannelEvents, ChannelInit, ChannelLimits, InstanceChannel, TakenBack } from './instance-channel.js'
import { LeaseFile } from './lease-file.js'
import { stackSizeKb } from './stack-size.js'

const PAGE_BYTES = 4096
/** How long a dead child's IPC pipe may take to deliver what it holds before the death is reported anyway. */
const DRAIN_IPC_MS = 200
const MIB = 1024 * 1024

/** Flags of the runtime a child must not inherit: a debugger port (taken), limits set here. */
const NOT_INHERITED = /^--(inspect|debug|max-old-space-size|stack-size)/

/**
 * An instance in a child process (`isolation: 'process'`): for apps whose native code may abort
 * or segfault, which in a worker thread takes the whole runtime down. The child runs the same
 * instance code (host/worker-main.ts) on its main thread; what differs:
 *
 * - messages travel over the IPC channel with `serialization: 'advanced'` (structured clone, as
 *   postMessage): a SharedArrayBuffer cannot cross, so a request body is copied (the dispatcher
 *   keeps its own to re-serve the request), and transfer lists mean nothing;
 * - the lease block is a file the child writes and this side reads (lease-file.ts);
 * - taking back unstarted requests is a message and its answer (see TakeBackMessage);
 * - limits are V8 flags: `--max-old-space-size` and `--stack-size` (below the OS stack limit,
 *   where a deeper recursion would segfault instead of throwing RangeError).
 *
 * @example
 * ```ts
 * const channel = new ProcessChannel(init, { heapMb: 512, stackMb: 4 }, { onBatch, onError, onExit })
 * ```
 */
export class ProcessChannel implements InstanceChannel {
  readonly procPid: number
  private readonly child: ChildProcess
  private readonly file: LeaseFile
  private pending = false
  private answer: TakenBack | null = null

  constructor(init: ChannelInit, limits: ChannelLimits, events: ChannelEvents) {
    this.file = LeaseFile.create()
    const execArgv = process.execArgv.filter((flag) => !NOT_INHERITED.test(flag))
    try {
      this.child = fork(fileURLToPath(workerEntryUrl), [], {
        serialization: 'advanced',
        // The app's output goes where the runtime's does, as a worker thread's does.
        stdio: ['ignore', 'inherit', 'inherit', 'ipc', this.file.fd],
        execArgv: [...execArgv, `--max-old-space-size=${limits.heapMb}`, `--stack-size=${stackSizeKb(limits.stackMb)}`],
        env: { ...process.env, [INSTANCE_ENV]: JSON.stringify({ ...init, heartbeat: null } satisfies InstanceInit) },
      })
    } catch (err) {
      this.file.close()
      throw err
    }
    this.procPid = this.child.pid ?? 0
    this.child.on('message', events.onBatch)
    this.child.on('error', events.onError)
    this.child.on('exit', (code, signal) => {
      // The block as the child left it, for blaming whatever it was running.
      this.file.read()
      let reported = false
      const exited = (): void => {
        if (reported) return
        reported = true
        events.onExit(code, signal)
        this.file.close()
      }
      if (!this.child.connected) return exited()
      // What the child sent before it died may still be in the IPC pipe (its `fatal`, the tape
      // entries of a run that killed it): read to the end of it, which comes at once now that
      // the child's end is closed, before the death is reported.
      const timer = setTimeout(exited, DRAIN_IPC_MS)
      this.child.once('disconnect', () => {
        clearTimeout(timer)
        exited()
      })
    })
  }

  get lease(): Int32Array {
    return this.file.slots
  }

  send(batch: ToInstance[]): void {
    if (!this.child.connected) return
    for (const msg of batch) if (msg.type === 'request' && msg.body instanceof SharedArrayBuffer) copyBody(msg)
    this.child.send(batch)
  }

  refresh(): void {
    this.file.read()
  }

  takeBack(posted: number, post: (message: ToInstance) => void): TakenBack | null {
    if (this.answer) {
      const answer = this.answer
      this.answer = null
      return answer
    }
    if (!this.pending) {
      this.pending = true
      post({ type: 'take-back', upTo: posted })
    }
    return null
  }

  takenBack(message: TakenBackMessage): boolean {
    this.pending = false
    if (message.after === null) return false
    this.answer = { after: message.after, upTo: message.upTo }
    return true
  }

  async terminate(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.child.kill('SIGKILL')
    await exited
  }

  ownRssMb(): number | null {
    try {
      // statm: size resident shared ... in pages (proc(5)).
      return (Number(readFileSync(`/proc/${this.procPid}/statm`, 'latin1').split(' ')[1]) * PAGE_BYTES) / MIB
    } catch {
      return null
    }
  }
}

/**
 * Replaces a request's shared body by a copy the IPC channel can carry. The message is the
 * attempt's own (made per send), so the job keeps its shared body for a re-serve.
 */
function copyBody(msg: RequestMessage): void {
  msg.body = new Uint8Array(msg.body as SharedArrayBuffer).slice().buffer
}

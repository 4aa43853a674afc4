import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import type { PlaybackReport } from './tape-player.js'

/**
 * What one check switched on during a replay found (AutoPecker's sanitizers, for JavaScript):
 * - `stall`: the JS stack where the event loop spins, sampled while it spins;
 * - `memory`: the stack where the heap ran out and the biggest allocation sites still live;
 * - `async-stack`: an uncaught error's full stack, with the asynchronous calls that led to it;
 * - `prototype-pollution`: properties added to or replaced on built-in prototypes;
 * - `code-generation`: code compiled from strings (eval, new Function) while the request ran.
 * `frames` are V8-style `at fn (file:line:col)` lines, so the first in-app one can be found.
 */
export interface Finding {
  check: 'stall' | 'memory' | 'async-stack' | 'prototype-pollution' | 'code-generation'
  summary: string
  frames: string[]
  /** `memory`: the biggest allocation sites, by sampled live bytes. */
  sites?: { frame: string; bytes: number }[]
}

/**
 * One line on the replay's side channel (fd 4), for the parent: what the checks thread found,
 * and (from the main thread, see replay-main.ts) how much of the tape was handed back so far.
 */
export type CheckLine = { type: 'finding'; finding: Finding } | { type: 'out-of-memory' } | { type: 'settled' } | { type: 'playback'; playback: PlaybackReport }

/** The side channel's file descriptor in a replay process (stdio index 4). */
export const CHECKS_FD = 4

/** Prototypes whose own properties a request must not change. */
const INTRINSICS: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['Boolean.prototype', Boolean.prototype],
  ['Promise.prototype', Promise.prototype],
  ['RegExp.prototype', RegExp.prototype],
  ['Error.prototype', Error.prototype],
  ['Map.prototype', Map.prototype],
  ['Set.prototype', Set.prototype],
]

/**
 * The checks of one replay. A thread of its own holds an inspector session on the main thread
 * (it keeps working while the main thread spins or runs out of heap): it pauses a stalled loop
 * to sample its stack, pauses on uncaught exceptions for their async stack, samples the heap
 * and watches for scripts compiled from strings. The main thread itself diffs the built-in
 * prototypes around the request. Only replays pay for any of this.
 *
 * @example
 * ```ts
 * const checks = await ReplayChecks.start(1000)
 * await loadApp(…); checks.arm()
 * // … the request runs …
 * checks.finish() // findings of the main thread; the thread's go out on fd 4
 * ```
 */
export class ReplayChecks {
  private snapshot: Map<string, Map<string | symbol, unknown>> | null = null

  private constructor(private readonly worker: Worker) {}

  /** Starts the checks thread and waits until its inspector session is attached. */
  static async start(leaseMs: number): Promise<ReplayChecks> {
    const beats = new Int32Array(new SharedArrayBuffer(4))
    const worker = new Worker(new URL('./replay-checks-worker.js', import.meta.url), { workerData: { beats, leaseMs, fd: CHECKS_FD } })
    worker.unref()
    const [message] = (await once(worker, 'message')) as [string]
    if (message !== 'ready') throw new Error(`the replay checks did not start: ${message}`)
    const checks = new ReplayChecks(worker)
    // The loop's heartbeat, as the checks thread sees it: it stops when the loop does.
    setInterval(() => Atomics.add(beats, 0, 1), 10).unref()
    return checks
  }

  /** The app is loaded: from now on, what happens is the request's. */
  arm(): void {
    this.snapshot = new Map(INTRINSICS.map(([name, proto]) => [name, describe(proto)]))
    this.worker.postMessage('arm')
  }

  /** Findings of the main thread, after the request: changed built-in prototypes. */
  finish(): Finding[] {
    if (!this.snapshot) return []
    const changes: string[] = []
    for (const [name, proto] of INTRINSICS) {
      const before = this.snapshot.get(name)!
      for (const [key, value] of describe(proto)) {
        if (!before.has(key)) changes.push(`${name}.${String(key)} added (${show(value)})`)
        else if (before.get(key) !== value) changes.push(`${name}.${String(key)} replaced (${show(value)})`)
      }
      for (const key of before.keys()) if (!Object.prototype.hasOwnProperty.call(proto, key)) changes.push(`${name}.${String(key)} deleted`)
    }
    if (changes.length === 0) return []
    return [{ check: 'prototype-pollution', summary: `the request changed built-in prototypes: ${changes.slice(0, 5).join('; ')}`, frames: [] }]
  }

  /** Lets the checks thread write what it still holds (scripts compiled just before the end). */
  async settle(): Promise<void> {
    this.worker.postMessage('settle')
    await Promise.race([once(this.worker, 'message'), new Promise((resolve) => setTimeout(resolve, 500).unref())])
  }
}

/** Own properties of a prototype: value (or getter) by key. */
function describe(proto: object): Map<string | symbol, unknown> {
  const out = new Map<string | symbol, unknown>()
  for (const key of Reflect.ownKeys(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, key)!
    out.set(key, 'value' in d ? d.value : d.get)
  }
  return out
}

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}

/**
 * The checks thread of a replay process (see replay-checks.ts): an inspector session on the
 * main thread, which keeps answering while the main thread spins (V8 interrupts it to pause)
 * and while it runs out of heap (with a debugger attached, V8 pauses at the heap limit, reason
 * `OOM`, instead of dying at once). Findings go to the parent as JSON lines on fd 4, written
 * synchronously, so they arrive even when the main thread never runs again.
 */
import { writeSync } from 'node:fs'
import { Session } from 'node:inspector'
import { parentPort, workerData } from 'node:worker_threads'
import type { CheckLine } from './replay-checks.js'

const { beats, leaseMs, fd } = workerData as { beats: Int32Array; leaseMs: number; fd: number }
/** crashless's own compiled code: its frames are never the app's. */
const OWN = new URL('../../', import.meta.url).href

interface CdpFrame {
  functionName: string
  /** Empty in a paused call frame: its script's URL is looked up by id. */
  url: string
  scriptId?: string
  lineNumber?: number
  columnNumber?: number
  location?: { scriptId: string; lineNumber: number; columnNumber: number }
}
interface AsyncTrace {
  description?: string
  callFrames: CdpFrame[]
  parent?: AsyncTrace
}
interface Paused {
  reason: string
  callFrames: CdpFrame[]
  asyncStackTrace?: AsyncTrace
  data?: { description?: string; value?: unknown }
}
interface ProfileNode {
  callFrame: CdpFrame
  selfSize: number
  children: ProfileNode[]
}

const session = new Session()
session.connectToMainThread()
// An inspector session alone does not keep a thread's event loop alive.
setInterval(() => {}, 1 << 30)
const post = <T = unknown>(method: string, params: object = {}): Promise<T> =>
  new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))))

let armed = false
let sampleWaiter: ((paused: Paused) => void) | null = null
let stallReported = false
let crashReported = false
const generated: { frames: string[]; source: string }[] = []
/** Every script's URL by id, from `Debugger.scriptParsed`. */
const scripts = new Map<string, string>()

function urlOf(f: CdpFrame): string {
  return f.url || scripts.get(f.location?.scriptId ?? f.scriptId ?? '') || ''
}
let generatedCount = 0

function send(line: CheckLine): void {
  try {
    writeSync(fd, `${JSON.stringify(line)}\n`)
  } catch {
    // The parent has gone: nobody to tell.
  }
}

function frameLine(f: CdpFrame): string {
  const line = (f.location?.lineNumber ?? f.lineNumber ?? 0) + 1
  const column = (f.location?.columnNumber ?? f.columnNumber ?? 0) + 1
  const url = urlOf(f)
  // A built-in (Array.prototype.push) has no script.
  if (!url && line === 1 && column === 1) return `    at ${f.functionName || '<anonymous>'} (native)`
  return `    at ${f.functionName || '<anonymous>'} (${url || '<eval>'}:${line}:${column})`
}

function inApp(f: CdpFrame): boolean {
  const url = urlOf(f)
  return (url.startsWith('file://') || url.startsWith('/')) && !url.includes('/node_modules/') && !url.startsWith(OWN) && !url.startsWith(OWN.replace('file://', ''))
}

/** The stack with the asynchronous calls that led to it, each introduced by its kind. */
function fullStack(paused: Paused): string[] {
  const lines = paused.callFrames.map(frameLine)
  for (let trace = paused.asyncStackTrace; trace; trace = trace.parent) {
    if (trace.callFrames.length === 0) continue
    lines.push(`    -- ${trace.description ?? 'async'} --`, ...trace.callFrames.map(frameLine))
  }
  return lines
}

function firstInApp(frames: CdpFrame[]): string | null {
  const f = frames.find(inApp)
  return f ? frameLine(f).trim().slice(3) : null
}

async function onPaused(paused: Paused): Promise<void> {
  if (sampleWaiter) {
    const waiter = sampleWaiter
    sampleWaiter = null
    return waiter(paused)
  }
  if (paused.reason === 'OOM') {
    const { profile } = await post<{ profile: { head: ProfileNode } }>('HeapProfiler.getSamplingProfile').catch(() => ({ profile: null }))
    const sites = profile ? biggestSites(profile.head) : []
    const where = firstInApp(paused.callFrames) ?? 'no frame of the app'
    send({ type: 'finding', finding: { check: 'memory', summary: `the heap ran out in ${where}; biggest live allocation sites: ${sites.slice(0, 3).map((s) => `${s.frame} (${(s.bytes / 2 ** 20).toFixed(1)} MiB)`).join(', ') || 'none sampled'}`, frames: fullStack(paused), sites } })
    flushGenerated()
    // Left paused: resuming would only die. The parent ends the process.
    return send({ type: 'out-of-memory' })
  }
  if (armed && !crashReported && (paused.reason === 'exception' || paused.reason === 'promiseRejection')) {
    crashReported = true
    const thrown = firstInApp(paused.callFrames)
    let origin: string | null = null
    for (let trace = paused.asyncStackTrace; trace && !origin; trace = trace.parent) origin = firstInApp(trace.callFrames)
    const what = paused.data?.description?.split('\n')[0] ?? String(paused.data?.value ?? 'a value')
    const summary = `uncaught ${what}, thrown at ${thrown ?? 'no frame of the app'}${origin ? `, in an asynchronous call scheduled at ${origin}` : ''}`
    send({ type: 'finding', finding: { check: 'async-stack', summary, frames: fullStack(paused) } })
  }
  await post('Debugger.resume').catch(() => {})
}

/** Pauses the spinning main thread a few times, 50 ms apart, and reports where it was. */
async function sampleStall(stalledMs: number): Promise<void> {
  const samples: Paused[] = []
  for (let i = 0; i < 3; i++) {
    const paused = new Promise<Paused>((resolve) => (sampleWaiter = resolve))
    await post('Debugger.pause')
    samples.push(await paused)
    await post('Debugger.resume').catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const tops = samples.map((s) => firstInApp(s.callFrames) ?? 'outside the app')
  const same = tops.filter((t) => t === tops[0]).length
  send({ type: 'finding', finding: { check: 'stall', summary: `the event loop stood still for over ${stalledMs} ms, spinning in ${tops[0]} (${same} of ${samples.length} samples there)`, frames: samples[0]!.callFrames.map(frameLine) } })
  flushGenerated()
}

function biggestSites(head: ProfileNode): { frame: string; bytes: number }[] {
  const bytes = new Map<string, number>()
  const walk = (node: ProfileNode): void => {
    if (node.selfSize > 0) {
      const key = frameLine(node.callFrame).trim().slice(3)
      bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize)
    }
    for (const child of node.children) walk(child)
  }
  walk(head)
  return [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([frame, n]) => ({ frame, bytes: n }))
}

function flushGenerated(): void {
  if (generatedCount === 0) return
  const first = generated[0]!
  const summary = `${generatedCount} script(s) compiled from strings (eval, new Function) while the request ran, the first at ${first.frames[0]?.trim().slice(3) ?? 'an unknown place'}: ${JSON.stringify(first.source)}`
  send({ type: 'finding', finding: { check: 'code-generation', summary, frames: first.frames } })
  generatedCount = 0
}

session.on('Debugger.paused', ({ params }) => void onPaused(params as Paused))
session.on('Debugger.scriptParsed', ({ params }) => {
  const p = params as { scriptId: string; url: string; stackTrace?: { callFrames: CdpFrame[] } }
  scripts.set(p.scriptId, p.url)
  if (!armed || p.url !== '' || !p.stackTrace || p.stackTrace.callFrames.some((f) => urlOf(f).startsWith('node:'))) return
  generatedCount++
  if (generated.length > 0) return
  const entry = { frames: p.stackTrace.callFrames.map(frameLine), source: '' }
  generated.push(entry)
  void post<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId: p.scriptId }).then(
    ({ scriptSource }) => (entry.source = scriptSource.slice(0, 80)),
    () => {},
  )
})

parentPort!.on('message', (message: string) => {
  if (message === 'arm') {
    armed = true
    let seen = Atomics.load(beats, 0)
    let since = performance.now()
    const stallAfter = Math.max(100, Math.floor(leaseMs / 2))
    setInterval(() => {
      const now = Atomics.load(beats, 0)
      if (now !== seen) {
        seen = now
        since = performance.now()
      } else if (!stallReported && performance.now() - since > stallAfter) {
        stallReported = true
        void sampleStall(stallAfter)
      }
    }, 20)
  } else if (message === 'settle') {
    // A round trip through the session: every event sent before it has arrived.
    void post('Runtime.getHeapUsage')
      .catch(() => {})
      .then(() => {
        flushGenerated()
        send({ type: 'settled' })
        // A session still attached holds the process at exit ("Waiting for the debugger to disconnect").
        session.disconnect()
        parentPort!.postMessage('settled')
      })
  }
})

await post('Debugger.enable')
await post('Debugger.setAsyncCallStackDepth', { maxDepth: 32 })
await post('Debugger.setPauseOnExceptions', { state: 'uncaught' })
await post('HeapProfiler.enable')
await post('HeapProfiler.startSampling', { samplingInterval: 64 * 1024 })
parentPort!.postMessage('ready')

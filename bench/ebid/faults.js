// Fault hooks of the eBid app (API.md, "Faults"). The campaign's injector arms a fault by
// renaming a JSON file onto EBID_FAULT_FILE: { kind, component, shot }. Every request to a
// component checks for it with one statSync (ENOENT, the common case, costs no exception) and the
// first request of that component to rename it away (atomic: one taker across all processes and
// threads) takes the shot. The faults are bugs of this app, so they are plain app code: nothing
// here knows which peer runs it.
import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { threadId } from 'node:worker_threads'
import { USER_COUNT } from './data/catalogue.js'
import { kv } from './data/kv.js'
import { itemFrom, itemKey, itemRecord, parseId, sessionKey } from './data/records.js'
import { tokenOf } from './components/session.js'
import { Mutex } from './mutex.js'

const FILE = process.env.EBID_FAULT_FILE || null
const LEAK_ELEMENTS = 512 * 1024 // doubles: 4 MiB of V8 heap per leaking request
const RACE_WINDOW_MS = 2_000
const RACE_GAP_MS = 100
const POISON = '\u0000poison'

let raceUntil = 0

/** The armed fault if this request of `component` just took it, else null. */
function takeShot(component) {
  if (fs.statSync(FILE, { throwIfNoEntry: false }) === undefined) return null
  const taken = `${FILE}.taken.${process.pid}.${threadId}`
  try {
    if (JSON.parse(fs.readFileSync(FILE, 'utf8')).component !== component) return null
    fs.renameSync(FILE, taken)
    return JSON.parse(fs.readFileSync(taken, 'utf8'))
  } catch {
    return null // another request took it first (or it is being replaced)
  }
}

/**
 * The component's first middleware: the leak (once shot), the fault check and the component's
 * mutex, which every request takes and releases at once.
 */
export function faultHook(component) {
  const mutex = new Mutex()
  let leaked = null
  return (req, res, next) => {
    if (leaked) leaked.push(new Array(LEAK_ELEMENTS).fill(leaked.length + 0.5))
    const shot = FILE ? takeShot(component) : null
    if (!shot) return mutex.pass(next)
    console.error(`ebid: pid ${process.pid} thread ${threadId} takes fault ${shot.kind} (shot ${shot.shot}) on ${component}: ${req.method} ${req.originalUrl}`)
    switch (shot.kind) {
      case 'null-deref':
        return void setImmediate(() => {
          const item = null
          return item.price
        })
      case 'async-throw':
        return void setTimeout(() => {
          throw new Error('ebid fault: throw in a setTimeout callback')
        }, 1)
      case 'rejection':
        return void Promise.reject(new Error('ebid fault: a rejected promise nobody handles'))
      case 'loop':
        for (;;);
      case 'deadlock':
        return void mutex.lock() // never released; this request never answers either
      case 'stack':
        return void setImmediate(() => recurse(0))
      case 'exit':
        return process.exit(1)
      case 'leak':
        leaked = []
        return mutex.pass(next)
      case 'race':
        raceUntil = Date.now() + RACE_WINDOW_MS
        return mutex.pass(next)
      case 'invalid-value':
      case 'corruption':
        plantBeforeAnswer(shot.kind, component, req, res)
        return mutex.pass(next)
      default:
        console.error(`ebid: unknown fault kind ${JSON.stringify(shot.kind)}; ignored`)
        return mutex.pass(next)
    }
  }
}

function recurse(n) {
  return recurse(n + 1) + 1
}

/**
 * invalid-value / corruption: the taking request is served normally, but just before it answers
 * it writes a bad value over the record it served (after its own write, so it sticks):
 *   items, bids: the item (from the body: id, item or items[0].id; else the URL's id) gets
 *                price -1 (invalid: display paths then throw) or price + 1 (wrong but valid)
 *   users:       the request's session names u0 (invalid: authenticated routes then throw) or
 *                the next user (wrong but valid: the client acts as someone else)
 */
function plantBeforeAnswer(kind, component, req, res) {
  const json = res.json
  res.json = function (body) {
    res.json = json
    plant(kind, component, req, res, body).then(
      (what) => {
        console.error(`ebid: ${kind} planted: ${what ?? 'nothing to plant into'}`)
        json.call(res, body)
      },
      (err) => res.status(500).json({ error: String(err?.message ?? err) }),
    )
    return res
  }
}

async function plant(kind, component, req, res, body) {
  if (component === 'users') {
    const token = res.locals.ebidToken ?? tokenOf(req)
    const name = token === null ? undefined : await kv.get(sessionKey(token))
    if (name === undefined) return null
    const wrong = kind === 'invalid-value' ? 'u0' : `u${(Number(name.slice(1)) % USER_COUNT) + 1}`
    await kv.set(sessionKey(token), wrong)
    return `session of ${name} now names ${wrong}`
  }
  const fromUrl = parseId(/^\/(?:items|bids)\/([^/?]+)/.exec(req.originalUrl)?.[1])
  const id = [body?.id, body?.item, body?.items?.[0]?.id, fromUrl].find(Number.isInteger)
  if (id === undefined) return null
  const item = itemFrom(id, await kv.get(itemKey(id)))
  if (!item) return null
  const was = item.price
  item.price = kind === 'invalid-value' ? -1 : was + 1
  await kv.set(itemKey(id), itemRecord(item))
  return `item ${id} price ${was} -> ${item.price}`
}

/**
 * The read-modify-write of bids (and of the sale id counter): atomic per key, except in the 2 s
 * after a `race` shot in this process, when it reads, awaits, then writes, so concurrent
 * requests overwrite each other's updates.
 */
export async function readModifyWrite(key, fn) {
  if (Date.now() >= raceUntil) return kv.update(key, fn)
  const current = await kv.get(key)
  await sleep(RACE_GAP_MS)
  const next = fn(current)
  if (next !== undefined) await kv.set(key, next)
  return next
}

/**
 * The search's query parser, with the bug the `attacker` fault exploits: it runs in a callback,
 * and a query starting with "\0poison" makes it dereference null there, an uncaught TypeError.
 */
export function parseSearch(q) {
  return new Promise((resolve) =>
    setImmediate(() => {
      const parsed = q.startsWith(POISON) ? null : { word: q.trim().toLowerCase() }
      resolve(parsed.word)
    }),
  )
}

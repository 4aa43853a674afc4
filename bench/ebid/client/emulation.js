// runEmulation: `users` emulated users walk the Markov chain against `origin` for `durationMs`.
// Each user: think (exponential), run the action of its state, record it, move to the next state.
// At durationMs no new action starts; actions in flight go on until they finish or, at
// durationMs + requestTimeoutMs (+ a little), are cut: a cut action is not recorded (it neither
// succeeded nor failed within the run), and `cut` counts them. `signal` stops everything early.
// Options beyond API.md: maxConnections (sockets of the shared pool), sharedFacts (see below).
import { setMaxListeners } from 'node:events'
import { ACTIONS } from './actions.js'
import { Facts } from './facts.js'
import { ActionFailed, Cut, createHttp } from './http.js'
import { mixSeed, nextState, prng } from './markov.js'
import { sleep, thinkTime } from './think.js'
import { createUser } from './user.js'

const HARD_STOP_SLACK_MS = 50

export async function runEmulation({ origin, users = 40, durationMs = 10_000, seed = 1, thinkMeanMs = 100, requestTimeoutMs = 2_000, signal, maxConnections = 256, sharedFacts = true }) {
  const t0 = performance.now()
  const soft = new AbortController() // no new actions
  const hard = new AbortController() // abort requests in flight
  // Every sleeping user and every request in flight listens on these: many listeners, no leak.
  setMaxListeners(users + maxConnections + 10, soft.signal, hard.signal)
  const softTimer = setTimeout(() => soft.abort(), durationMs)
  const hardTimer = setTimeout(() => hard.abort(), durationMs + requestTimeoutMs + HARD_STOP_SLACK_MS)
  const stopNow = () => {
    soft.abort()
    hard.abort()
  }
  if (signal?.aborted) stopNow()
  signal?.addEventListener('abort', stopNow, { once: true })

  // Each user waits for its own answer before its next request, so `users` sockets suffice.
  const http = createHttp({ origin, connections: Math.max(1, Math.min(users, maxConnections)), requestTimeoutMs, hardSignal: hard.signal, t0 })
  // sharedFacts: what one user saw (a price, a sale) binds every later read by any user; false
  // limits each user's checks to its own observations.
  const facts = new Facts()
  const actions = []
  let cut = 0

  async function runUser(index) {
    const user = createUser({ index, users, seed })
    const ctx = { request: http.request, facts: sharedFacts ? facts : new Facts() }
    // Its own stream for the walk and think times: the state sequence doesn't depend on answers.
    const walk = prng(mixSeed(seed ^ 0x5eed, index))
    await sleep(thinkTime(walk, thinkMeanMs), soft.signal) // users start staggered
    while (!soft.signal.aborted) {
      const state = user.state
      const start = performance.now()
      const record = { t: 0, ms: 0, state, ok: true }
      try {
        await ACTIONS[state](ctx, user)
      } catch (err) {
        if (err instanceof Cut) {
          cut++
          return
        }
        record.ok = false
        if (err instanceof ActionFailed) {
          record.reason = err.reason
          if (err.detail) record.detail = err.detail
        } else {
          // A bug of this client, not of the service: say so loudly in the reason.
          record.reason = 'client bug'
          record.detail = String(err?.stack ?? err).slice(0, 300)
        }
      }
      const end = performance.now()
      record.t = round(end - t0)
      record.ms = round(end - start)
      actions.push(record)
      user.state = nextState(walk, state)
      await sleep(thinkTime(walk, thinkMeanMs), soft.signal)
    }
  }

  try {
    await Promise.all(Array.from({ length: users }, (_, i) => runUser(i)))
  } finally {
    clearTimeout(softTimer)
    clearTimeout(hardTimer)
    signal?.removeEventListener('abort', stopNow)
    await http.close()
  }
  return { startedAt: performance.timeOrigin + t0, durationMs, users, seed, actions, requests: http.requests, cut }
}

function round(ms) {
  return Math.round(ms * 100) / 100
}

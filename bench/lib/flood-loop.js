// Benign closed-loop load with a poison flood mixed in: closed-loop.js's loops send GET
// `benignPath`; once measuring, every `every`-th request of the whole client is instead a poison,
// `poisonPathFor(n)` (n = 0, 1, ...), sent on a fresh connection and NOT awaited by the loop: the
// attacker does not wait for its own requests, so a slow poison (an infinite loop) does not slow
// the flood down. Only benign throughput regulates it. At most `maxPoisonInFlight` poisons are
// open at once, to bound the bench's own sockets: a poison due while that many are open is
// deferred (counted in `capDeferred`) and sent as soon as one of them ends, and the loop sends its
// benign request meanwhile. (Until issue 9.2 the loop waited for a slot: with poisons that are
// never answered and a 2 s poison timeout, every loop then sat waiting at once, in bursts, and the
// 100 ms windows with no benign request in flight were counted as windows the server did not
// serve.) Poisons still deferred when the loops stop are never sent (`capDropped`).
import { closedLoop } from './closed-loop.js'
import { sendPoison } from './poison-request.js'

export async function floodLoop({ origin, benignPath = '/ok', poisonPathFor, every = 10, poisonTimeoutMs = 2000, maxPoisonInFlight = 200, onStart, ...loopOptions }) {
  const shots = []
  const pending = new Set()
  let deferred = 0
  let capDeferred = 0
  let stopped = false
  let seq = 0
  let t0 = 0

  function send() {
    const slot = { n: shots.length }
    shots.push(slot)
    const p = sendPoison({ origin, path: poisonPathFor(slot.n), timeoutMs: poisonTimeoutMs, t0 }).then((shot) => {
      Object.assign(slot, shot)
      pending.delete(p)
      if (deferred > 0 && !stopped) {
        deferred--
        send()
      }
    })
    pending.add(p)
  }

  function firePoison() {
    if (pending.size >= maxPoisonInFlight) {
      capDeferred++
      deferred++
    } else send()
  }

  const result = await closedLoop({
    ...loopOptions,
    origin,
    path: benignPath,
    onStart(start) {
      t0 = start
      onStart?.(start)
    },
    // A poison's turn is not a benign request (so poison stays 1/every of what is sent), but the
    // loop goes straight on to its next turn: it never waits for the poison.
    interject: () => {
      if (++seq % every !== 0) return null
      firePoison()
      return Promise.resolve()
    },
  })
  stopped = true
  const capDropped = deferred
  while (pending.size > 0) await Promise.all([...pending])
  return { ...result, shots, capDeferred, capDropped }
}

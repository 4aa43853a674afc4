// Benign closed-loop load with a poison flood mixed in: closed-loop.js's loops send GET
// `benignPath`; once measuring, every `every`-th request of the whole client is instead a poison,
// `poisonPathFor(n)` (n = 0, 1, ...), sent on a fresh connection and NOT awaited by the loop: the
// attacker does not wait for its own requests, so a slow poison (an infinite loop) does not slow
// the flood down, and poison stays exactly 1/every of the requests sent. Only benign throughput
// regulates it: a server that answers benign traffic slowly also gets less poison. At most
// `maxPoisonInFlight` poisons are open at once (the loop waits for a slot, and the wait is
// counted), to bound the bench's own sockets.
import { closedLoop } from './closed-loop.js'
import { sendPoison } from './poison-request.js'

export async function floodLoop({ origin, benignPath = '/ok', poisonPathFor, every = 10, poisonTimeoutMs = 2000, maxPoisonInFlight = 200, onStart, ...loopOptions }) {
  const shots = []
  const pending = new Set()
  let slotWaiters = []
  let capWaits = 0
  let seq = 0
  let t0 = 0

  async function firePoison() {
    while (pending.size >= maxPoisonInFlight) {
      capWaits++
      await new Promise((resolve) => slotWaiters.push(resolve))
    }
    const slot = { n: shots.length }
    shots.push(slot)
    const p = sendPoison({ origin, path: poisonPathFor(slot.n), timeoutMs: poisonTimeoutMs, t0 }).then((shot) => {
      Object.assign(slot, shot)
      pending.delete(p)
      const waiters = slotWaiters
      slotWaiters = []
      for (const wake of waiters) wake()
    })
    pending.add(p)
  }

  const result = await closedLoop({
    ...loopOptions,
    origin,
    path: benignPath,
    onStart(start) {
      t0 = start
      onStart?.(start)
    },
    interject: () => (++seq % every === 0 ? firePoison() : null),
  })
  await Promise.all([...pending])
  return { ...result, shots, capWaits }
}

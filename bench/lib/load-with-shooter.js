// Benign closed-loop load on GET /ok with periodic faulty requests beside it: the shooter starts
// when measuring does, and the bench client's own stalls are watched over the same window (so an
// outage the client caused itself can be told apart). Shared by faults.js and poison.js.
import { watchClientStalls } from './client-stalls.js'
import { closedLoop } from './closed-loop.js'

export async function loadWithShooter({ shooter, ...loopOptions }) {
  const watcher = watchClientStalls()
  const { samples } = await closedLoop({
    ...loopOptions,
    path: '/ok',
    onStart: (t0) => {
      watcher.reset(t0)
      shooter.start(t0)
    },
  })
  const stalls = watcher.stop()
  return { samples, shots: await shooter.done(), stalls }
}

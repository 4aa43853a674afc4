/**
 * A helper thread of an instance running as a child process: kills the process once its parent
 * (the runtime) is gone, even while the app's event loop is stuck and its `disconnect` handler
 * cannot run. A blocked instance whose runtime died of `kill -9` would otherwise spin a core
 * forever. Polling `process.ppid` (a getppid(2), sub-µs) 4 times a second costs nothing
 * measurable; the thread adds about 3 MB of RSS to the child.
 */
import { workerData } from 'node:worker_threads'

/** How often the parent is checked: an orphan lives at most this long. */
const POLL_MS = 250

const { parent } = workerData as { parent: number }
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL')
}, POLL_MS)

// Number of cores this bench may use: PM2 `-i max` and crashless `--instances` both use this many.
import os from 'node:os'

export function cores() {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
}

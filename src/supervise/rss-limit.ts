import { readFileSync } from 'node:fs'

/** cgroup v2, then v1: where a container's memory limit is read from. */
const CGROUP_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']

/** cgroup v1 writes "no limit" as a page-aligned number near 2^63; nothing real is that large. */
const NO_LIMIT_BYTES = 2 ** 60

const MIB = 1024 * 1024

/**
 * A cgroup memory limit file's content as MiB, or null when it sets no limit (`max` in cgroup
 * v2, a number near 2^63 in v1) or cannot be read as one.
 *
 * @example
 * ```ts
 * parseCgroupLimit('max\n')        // null
 * parseCgroupLimit('2147483648\n') // 2048
 * ```
 */
export function parseCgroupLimit(text: string): number | null {
  const value = text.trim()
  if (!/^\d+$/.test(value)) return null
  const bytes = Number(value)
  return bytes > 0 && bytes < NO_LIMIT_BYTES ? Math.floor(bytes / MIB) : null
}

/**
 * The RSS limit of the runtime process, MiB (0: none): the container's cgroup memory limit when
 * there is one, `configuredMb` (`limits.rssMb`) otherwise, the smaller of both when both are set.
 * Read once at start: the kernel's OOM killer acts on the cgroup's limit, and crashless must
 * act before it does. `files` is for tests.
 *
 * @example
 * ```ts
 * rssLimitMb(0)    // 2048 in a container limited to 2 GiB, 0 outside one
 * rssLimitMb(1024) // 1024 either way
 * ```
 */
export function rssLimitMb(configuredMb: number, files: readonly string[] = CGROUP_FILES): number {
  let cgroup: number | null = null
  for (const file of files) {
    try {
      cgroup = parseCgroupLimit(readFileSync(file, 'utf8'))
    } catch {
      continue
    }
    break
  }
  if (cgroup === null) return configuredMb
  return configuredMb > 0 ? Math.min(configuredMb, cgroup) : cgroup
}

import { dirname, isAbsolute, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** crashless's package root (from dist/src/incidents/): frames in its dist/ and src/ are never the app's. */
const OWN_CODE = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * The first frame of `stack` in the app's own code, as `file:line:col` relative to `appDir`:
 * frames of Node's internals, of node_modules and of crashless itself are skipped. Null when
 * there is no such frame (no stack, or a failure entirely inside a dependency). Two failures
 * with the same kind and first in-app frame are the same bug, for deduplication and for
 * `crashless replay`'s verdict.
 *
 * @example
 * ```ts
 * firstAppFrame('Error: boom\n    at boom (/srv/app/src/routes.ts:12:9)\n    at /srv/app/node_modules/x/i.js:1:1', '/srv/app')
 * // 'src/routes.ts:12:9'
 * ```
 */
export function firstAppFrame(stack: string | undefined | null, appDir: string): string | null {
  if (!stack) return null
  for (const line of stack.split('\n')) {
    const location = locationOf(line)
    if (!location) continue
    const file = location.file.startsWith('file://') ? safePath(location.file) : location.file
    if (file === null || !isAbsolute(file)) continue
    if (file.includes(`${sep}node_modules${sep}`) || file.startsWith(OWN_CODE + 'dist' + sep) || file.startsWith(OWN_CODE + 'src' + sep)) continue
    const shown = relative(appDir, file)
    return `${shown.startsWith('..') ? file : shown}:${location.line}:${location.column}`
  }
  return null
}

/** The directory an app's frames are shown relative to: its entry's. */
export function appDirOf(entry: string): string {
  return dirname(entry)
}

/** `at fn (file:1:2)`, `at file:1:2`, `at async fn (file:1:2)`: the file and position, or null. */
function locationOf(line: string): { file: string; line: string; column: string } | null {
  const trimmed = line.trim()
  if (!trimmed.startsWith('at ')) return null
  const inParens = /\((.*):(\d+):(\d+)\)$/.exec(trimmed)
  const bare = inParens ?? /^at (?:async )?(.*):(\d+):(\d+)$/.exec(trimmed)
  if (!bare) return null
  return { file: bare[1]!, line: bare[2]!, column: bare[3]! }
}

function safePath(url: string): string | null {
  try {
    return fileURLToPath(url)
  } catch {
    return null
  }
}

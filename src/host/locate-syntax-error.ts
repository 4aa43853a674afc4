import { spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'

/**
 * Adds the line to a SyntaxError thrown by importing a JavaScript entry. Node 20 keeps the
 * location of an ES module syntax error out of `err.stack` (it only prints it for an uncaught
 * error), so `import()` leaves the user with "Unexpected end of input" and no line. Running
 * `node --check` on the entry recovers it. Only the failure path pays for the extra process.
 *
 * Returns `err` unchanged when it is not a SyntaxError or the entry itself parses (the error
 * is then in a module the entry imports, which `--check` cannot reach).
 *
 * @example
 * ```ts
 * try { await import(url) } catch (err) { throw locateSyntaxError(err, entry) }
 * ```
 */
export function locateSyntaxError(err: unknown, entry: string): unknown {
  if (!(err instanceof SyntaxError)) return err
  const check = spawnSync(process.execPath, ['--check', entry], { encoding: 'utf8', timeout: 5000 })
  if (check.status === 0 || typeof check.stderr !== 'string') return err
  // The first line of Node's report is "<path>:<line>" (a path, or a file URL for ES modules).
  const match = /^(.*):(\d+)\s*$/m.exec(check.stderr)
  if (!match || !match[1]!.includes(entry)) return err
  const located = new SyntaxError(err.message, { cause: err })
  located.stack = `SyntaxError: ${err.message}\n    at ${pathToFileURL(entry).href}:${match[2]}`
  return located
}

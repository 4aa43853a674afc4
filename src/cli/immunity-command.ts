import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { AdminCallError, callAdmin } from './admin-client.js'
import { formatImmunityTable, parseEntries, printable, type ListedEntry } from './format-immunity.js'
import { resolveAdminTarget } from './resolve-admin-target.js'

/**
 * `crashless immunity ls [--json]` and `crashless immunity release <signature> [--json]`: read and
 * change the immunity table of a running crashless through its admin endpoint. Resolves with
 * the exit code: 0 done, 1 the endpoint could not be reached, refused or did not know the
 * signature; bad usage throws a UsageError (exit 2).
 *
 * @example
 * ```ts
 * await immunityCommand(['release', 'GET /boom #-', '--admin', 'http://127.0.0.1:9300'])
 * ```
 */
export async function immunityCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv
  if (action !== 'ls' && action !== 'release') {
    throw new UsageError(action === undefined ? 'crashless immunity needs an action: ls or release <signature>' : `crashless immunity: unknown action "${action}" (expected ls or release)`)
  }
  let parsed
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        admin: { type: 'string' },
        token: { type: 'string' },
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean' },
      },
    })
  } catch (err) {
    throw new UsageError(`crashless immunity ${action}: ${(err as Error).message}`, { cause: err })
  }
  const { values, positionals } = parsed
  if (action === 'ls' && positionals.length > 0) throw new UsageError(`crashless immunity ls takes no arguments, got: ${positionals.join(' ')}`)
  if (action === 'release' && positionals.length !== 1) {
    throw new UsageError('crashless immunity release takes exactly one signature (quote it: it contains spaces), e.g. crashless immunity release "GET /items?id=7 #-"')
  }
  try {
    const target = await resolveAdminTarget({ admin: values.admin, token: values.token, config: values.config }, process.cwd(), process.env)
    return action === 'ls' ? await list(target, values.json === true) : await release(target, positionals[0]!, values.json === true)
  } catch (err) {
    if (!(err instanceof AdminCallError)) throw err
    process.stderr.write(`crashless: ${err.message}\n`)
    return 1
  }
}

/** Pages the endpoint serves at most; the table holds 10,000 entries at most, so 10 pages of 1,000 cover it. */
const PAGE = 1_000
const MAX_PAGES = 20

async function list(target: Parameters<typeof callAdmin>[0], json: boolean): Promise<number> {
  // The endpoint serves the table in pages, in signature order (so it never builds all of it
  // at once on the thread serving traffic); this puts them back together.
  const entries: ListedEntry[] = []
  let after: string | null = null
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: string = `?limit=${PAGE}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`
    const { status, body } = await callAdmin(target, 'GET', `/immunity${query}`)
    const got = status === 200 ? parseEntries(body) : null
    if (!got) throw new AdminCallError(`unexpected answer from ${target.url}/immunity (${status}): is it a crashless admin endpoint?`)
    entries.push(...got)
    after = (body as { next?: unknown }).next as string | null
    if (typeof after !== 'string') break
  }
  // Quarantined first, latest verdict first, as people read it.
  entries.sort((a, b) => b.quarantinedUntil - a.quarantinedUntil)
  process.stdout.write(json ? `${JSON.stringify(entries, null, 2)}\n` : `${formatImmunityTable(entries)}\n`)
  return 0
}

async function release(target: Parameters<typeof callAdmin>[0], signature: string, json: boolean): Promise<number> {
  const { status } = await callAdmin(target, 'DELETE', `/immunity/${encodeURIComponent(signature)}`)
  if (status === 404) {
    if (json) process.stdout.write(`${JSON.stringify({ signature, released: false })}\n`)
    process.stderr.write(`crashless: no immunity entry for ${printable(signature)} (it may have expired); see crashless immunity ls\n`)
    return 1
  }
  if (status !== 200) throw new AdminCallError(`unexpected answer from ${target.url} (${status}) to the release`)
  process.stdout.write(json ? `${JSON.stringify({ signature, released: true })}\n` : `released ${printable(signature)}: requests like it run again\n`)
  return 0
}

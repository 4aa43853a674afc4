import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { AdminCallError, callAdmin } from './admin-client.js'
import { resolveAdminTarget } from './resolve-admin-target.js'

/**
 * `crashless reload`: asks the keeper of a running crashless, through its admin endpoint, for
 * a zero-downtime reload (the same as SIGHUP to the keeper): a runtime with the new code and
 * config starts, takes over once its instances are ready, and the old one drains. Resolves with
 * the exit code: 0 the reload started, 1 the endpoint could not be reached or has no keeper.
 *
 * @example
 * ```ts
 * await reloadCommand(['--admin', 'http://127.0.0.1:9300', '--json'])
 * ```
 */
export async function reloadCommand(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, strict: true, options: { admin: { type: 'string' }, token: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } } }))
  } catch (err) {
    throw new UsageError(`crashless reload: ${(err as Error).message}`, { cause: err })
  }
  try {
    const target = await resolveAdminTarget({ admin: values.admin, token: values.token, config: values.config }, process.cwd(), process.env)
    const { status, body } = await callAdmin(target, 'POST', '/reload')
    if (status === 202) {
      process.stdout.write(values.json ? `${JSON.stringify({ reload: 'started' })}\n` : 'reload started: the new runtime takes over once it is ready (see the crashless log: "reloaded" or "reload-failed")\n')
      return 0
    }
    const message = (body as { error?: { message?: string } } | null)?.error?.message ?? `unexpected answer (${status})`
    throw new AdminCallError(`cannot reload: ${message}`)
  } catch (err) {
    if (!(err instanceof AdminCallError)) throw err
    process.stderr.write(`crashless: ${err.message}\n`)
    return 1
  }
}

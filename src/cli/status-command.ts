import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { AdminCallError, callAdmin } from './admin-client.js'
import { formatStatus, parseStatus } from './format-status.js'
import { resolveAdminTarget } from './resolve-admin-target.js'

/**
 * `crashless status [--json]`: the instances of a running crashless (id, role, state, uptime,
 * requests served, in flight, recoveries, heap), like `pm2 ls`, from the admin endpoint's
 * `GET /instances`. Resolves with the exit code: 0 shown, 1 the endpoint could not be reached or
 * refused; bad usage throws a UsageError (exit 2).
 *
 * @example
 * ```ts
 * await statusCommand(['--json', '--admin', 'http://127.0.0.1:9300'])
 * ```
 */
export async function statusCommand(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, strict: true, options: { admin: { type: 'string' }, token: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } } }))
  } catch (err) {
    throw new UsageError(`crashless status: ${(err as Error).message}`, { cause: err })
  }
  try {
    const target = await resolveAdminTarget({ admin: values.admin, token: values.token, config: values.config }, process.cwd(), process.env)
    const { status, body } = await callAdmin(target, 'GET', '/instances')
    const report = status === 200 ? parseStatus(body) : null
    if (!report) throw new AdminCallError(`unexpected answer from ${target.url}/instances (${status}): is it a crashless admin endpoint of this version?`)
    process.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${formatStatus(report)}\n`)
    return 0
  } catch (err) {
    if (!(err instanceof AdminCallError)) throw err
    process.stderr.write(`crashless: ${err.message}\n`)
    return 1
  }
}

import { readFileSync } from 'node:fs'
import { hasErrorCode } from '../errors.js'
import { runCommand } from './run-command.js'

const USAGE = `Usage: crashless <command> [options]

Commands:
  run <entry>        serve an HTTP app under crashless
      --port, -p <n>       port to serve on (default: the port the app asked for, else 3000)
      --host <host>        host to bind (default: what the app asked for, else all interfaces)
      --instances, -i <n>  worker instances (default: one per core)
      --config, -c <file>  config file (default: crashless.config.{ts,mts,js,mjs} if present)
      --log-level <level>  fatal|error|warn|info|debug|trace|silent

  --help, -h         show this help
  --version, -v      show the version`

/** The `crashless` command. Exits non-zero with a one-line reason on bad usage or a broken app. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return command === undefined ? 2 : 0
  }
  if (command === '--version' || command === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
    process.stdout.write(`${pkg.version}\n`)
    return 0
  }
  try {
    if (command === 'run') return await runCommand(rest)
    process.stderr.write(`crashless: unknown command "${command}"\n\n${USAGE}\n`)
    return 2
  } catch (err) {
    if (hasErrorCode(err, 'CRASHLESS_ERR_USAGE')) {
      process.stderr.write(`crashless: ${(err as Error).message}\n\n${USAGE}\n`)
      return 2
    }
    if (hasErrorCode(err, 'CRASHLESS_ERR_CONFIG') || hasErrorCode(err, 'CRASHLESS_ERR_APP_LOAD')) {
      process.stderr.write(`crashless: ${(err as Error).message}\n`)
      return 1
    }
    process.stderr.write(`crashless: ${(err as Error).stack ?? String(err)}\n`)
    return 1
  }
}

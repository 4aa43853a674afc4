import { readFileSync } from 'node:fs'
import { hasErrorCode } from '../errors.js'
import { envCommand } from './env-command.js'
import { immunityCommand } from './immunity-command.js'
import { incidentsCommand } from './incidents-command.js'
import { replayCommand } from './replay-command.js'
import { triageCommand } from './triage-command.js'
import { reloadCommand } from './reload-command.js'
import { runCommand } from './run-command.js'
import { statusCommand } from './status-command.js'

const USAGE = `Usage: crashless <command> [options]

Commands:
  run <entry>        serve an HTTP app under crashless
      --port, -p <n>       port to serve on (default: the port the app asked for, else 3000)
      --host <host>        host to bind (default: what the app asked for, else all interfaces)
      --instances, -i <n>  instances per runtime (default: one per core, shared among runtimes)
      --runtimes <n|auto>  runtime processes sharing the port under the keeper (default 1;
                           auto: half the cores)
      --isolation <mode>   worker (threads, default) or process (child processes, for native addons)
      --config, -c <file>  config file (default: crashless.config.{ts,mts,js,mjs} if present)
      --log-level <level>  fatal|error|warn|info|debug|trace|silent
      --log-format <f>     pretty (one readable line per event) | json | auto (default:
                           pretty on a terminal, JSON otherwise)
      --admin-port <n>     admin endpoint port on admin.host (default 9300; 0 picks a free one)
      --no-keeper          one process, without the keeper that replaces a dead runtime
                           (for debugging; the default runs a keeper and a warm standby)

  reload             zero-downtime reload of a running crashless (same as SIGHUP to its
                     keeper): new code and config take over once ready, the old runtime drains

  status             the instances of a running crashless: role, state, uptime, requests
                     served, in flight, recoveries, heap (like pm2 ls)
      --json               print JSON instead of a table

  immunity ls        list the immunity table of a running crashless (signature, failures,
                     last failure, quarantined until)
      --json               print JSON instead of a table
  immunity release <signature>
                     lift a quarantine (quote the signature: it contains spaces)
    status, immunity and reload take:
      --admin <url>        admin endpoint (default: admin.host/admin.port of the config file,
                           else http://127.0.0.1:9300)
      --token <token>      admin token (default: $CRASHLESS_ADMIN_TOKEN, else admin.token)
      --config, -c <file>  config file to read the admin options from

  incidents ls       the incidents in .crashless/incidents (no running crashless needed):
                     id, time, verdict, kind, identical failures counted, first in-app frame
      --limit <n>          the newest n only
  incidents show <id>
                     one incident: request (secrets redacted), error and stack, ladder
                     steps, neighbours, tape, environment ("latest" names the newest)
  incidents export <id> --format otel|sentry
                     an OpenTelemetry exception event or a Sentry event (JSON)
  replay <id>        re-run the incident's request against its app with the recorded store
                     reads and nondeterminism, without a server or a store; exit 0 when the
                     failure reproduces (same kind, same first in-app frame), 1 when not
      --inspect[=host:port]  wait for a debugger (chrome://inspect), stop at the failure
  triage <id>        re-run the incident several ways and classify it (deterministic,
                     concurrency, resource, environment, not-reproducible), minimise its
                     request, write a node:test regression test; exit 0 when it reproduced
      --runs <n>           runs per setting (default 5)
      --out <dir>          where the regression test goes (default test/regressions)
      --no-test            write no regression test
  env                this machine's environment fingerprint, as incidents carry it
  env diff <a> <b>   compare two fingerprints (files, incident ids, or "here"), the
                     differences most likely to matter first
    incidents, replay, triage and env take:
      --dir <dir>          incidents folder (default: incidents.dir of the config file, else
                           .crashless/incidents in the working directory)
      --config, -c <file>  config file
      --json               print JSON

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
    if (command === 'immunity') return await immunityCommand(rest)
    if (command === 'reload') return await reloadCommand(rest)
    if (command === 'status') return await statusCommand(rest)
    if (command === 'incidents') return await incidentsCommand(rest)
    if (command === 'replay') return await replayCommand(rest)
    if (command === 'triage') return await triageCommand(rest)
    if (command === 'env') return await envCommand(rest)
    process.stderr.write(`crashless: unknown command "${command}"\n\n${USAGE}\n`)
    return 2
  } catch (err) {
    if (hasErrorCode(err, 'CRASHLESS_ERR_USAGE')) {
      process.stderr.write(`crashless: ${(err as Error).message}\n\n${USAGE}\n`)
      return 2
    }
    if (hasErrorCode(err, 'CRASHLESS_ERR_CONFIG') || hasErrorCode(err, 'CRASHLESS_ERR_APP_LOAD') || hasErrorCode(err, 'CRASHLESS_ERR_NOT_FOUND') || hasErrorCode(err, 'CRASHLESS_ERR_REPLAY')) {
      process.stderr.write(`crashless: ${(err as Error).message}\n`)
      return 1
    }
    process.stderr.write(`crashless: ${(err as Error).stack ?? String(err)}\n`)
    return 1
  }
}

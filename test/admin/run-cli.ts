import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixture, repoRoot, startCrashless, type CrashlessProcess } from '../helpers/crashless-process.js'

/** What a finished `crashless …` command printed. */
export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `crashless <args>` to completion in `cwd` (default: an empty temp dir, so no config
 * file is found) with `env` added, killed after `timeoutMs`.
 */
export async function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const cwd = options.cwd ?? tempDir()
  // The admin token may be set in the developer's shell: a test decides it explicitly.
  const env: NodeJS.ProcessEnv = { ...process.env, CRASHLESS_ADMIN_TOKEN: '', ...options.env }
  const child = spawn(process.execPath, [`${repoRoot}bin/crashless.js`, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  if (options.cwd === undefined) rmSync(cwd, { recursive: true, force: true })
  return { code, stdout, stderr }
}

const dirs: string[] = []

/** A fresh temp directory, removed by {@link removeTempDirs}. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crashless-admin-'))
  dirs.push(dir)
  return dir
}

/** Removes every directory made by {@link tempDir}; for `after`. */
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** Writes `config` (plus the faults app as entry, unless `entry: null`) to crashless.config.mjs in `dir`; returns the file. */
export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const file = join(dir, 'crashless.config.mjs')
  const withEntry = config.entry === null ? Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'entry')) : { entry: fixture('faults-app.mjs'), ...config }
  writeFileSync(file, `export default ${JSON.stringify(withEntry)}\n`)
  return file
}

/** A running crashless on the faults app with `config`, in `dir` (its working directory). */
export async function startIn(dir: string, config: Record<string, unknown>, args: string[] = ['--instances', '2']): Promise<CrashlessProcess & { adminUrl: string }> {
  const file = writeConfig(dir, config)
  // --admin-port from the config: the helper's default `--admin-port 0` would override it.
  const port = (config.admin as { port?: number } | undefined)?.port ?? 0
  const server = await startCrashless(fixture('faults-app.mjs'), ['--config', file, '--admin-port', String(port), ...args], { cwd: dir })
  const listening = await server.waitForLog((l) => l.event === 'admin-listening', 5_000)
  return Object.assign(server, { adminUrl: `http://127.0.0.1:${listening.port as number}` })
}

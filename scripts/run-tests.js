// Runs every compiled test file under dist/test with Node's test runner. Node 20's --test does
// not expand globs, so the files are listed here. Real-process tests are heavy on 2 cores, so
// files run two at a time, except those that judge timing under load (faults, keeper: CPU-bound
// routes, leases, a reload under 20 connections, memory bombs; components: crash loops beside
// load), which run one at a time after the others: two of them side by side starve each other's
// crashless (a keeper, its runtime and a warm standby each) and fail on what is the other test's
// load. The cluster tests (three
// nodes, nginx and Redis in network namespaces, under 40 users) run one at a time too.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function findTests(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...findTests(path))
    else if (name.endsWith('.test.js')) out.push(path)
  }
  return out
}

const filter = process.argv.slice(2)
const files = findTests('dist/test').filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
if (files.length === 0) {
  console.error('no test files found under dist/test (did the build run?)')
  process.exit(1)
}
const alone = (f) => /dist\/test\/(faults|keeper|cluster|components)\//.test(f)
const run = (list, concurrency) => (list.length === 0 ? 0 : (spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...list], { stdio: 'inherit' }).status ?? 1))
const shared = run(files.filter((f) => !alone(f)), 2)
const serial = run(files.filter(alone), 1)
process.exit(shared || serial)

import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import type { Tape } from '../tape.js'
import type { Incident } from './incident.js'
import type { ReproducingSetup, TriageReport } from './triage.js'

/**
 * The source of a ready-to-commit `node:test` file that reproduces a triaged incident: it
 * replays the (minimised) request against the app, imported from its entry relative to the
 * test file, with what made it fail (the tape, environment variables, neighbours), and
 * asserts that the app answers. It fails while the bug is there and passes once it is fixed.
 *
 * @example
 * ```ts
 * const source = regressionTestSource(incident, report, 'test/regressions/inc-….test.mjs')
 * ```
 */
export function regressionTestSource(incident: Incident, report: TriageReport & { setup: ReproducingSetup }, file: string): string {
  const app = incident.app!
  let entry = relative(dirname(file), app.entry).split(sep).join('/')
  if (!entry.startsWith('.')) entry = `./${entry}`
  const { setup } = report
  const run: Record<string, unknown> = { request: setup.request }
  if (setup.tape && !isEmpty(setup.tape)) run.tape = setup.tape
  if (Object.keys(setup.env).length > 0) run.env = setup.env
  if (setup.neighboursFirst !== null) Object.assign(run, { neighbours: setup.neighbours, neighboursFirst: setup.neighboursFirst })
  const what = `${incident.kind ?? 'failure'}${incident.frame ? ` at ${incident.frame}` : ''}${incident.error ? ` (${incident.error.name}: ${oneLine(incident.error.message)})` : ''}`
  const title = `${setup.request.method} ${setup.request.url} no longer fails (${incident.kind ?? 'failure'}, incident ${incident.id})`
  return `// Regression test for crashless incident ${incident.id}, written by \`crashless triage\`.
// ${report.class}: ${what}.
// Triage: ${oneLine(report.why)} (${report.agreeing} of ${report.runs} runs agreed).
${report.minimized && report.minimized.removed.length > 0 ? `// Minimised: removed ${report.minimized.removed.join(', ')}.\n` : ''}//
// The request is replayed against the app as crashless runs it (imported in a process of its
// own, no server, no store: store reads and random values come from the tape below). It fails
// while the bug is there and passes once it is fixed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { replay } from 'crashless/testing'

const app = ${json({ entry: '__ENTRY__', style: app.style, heapMb: app.heapMb, ...(app.externalMb ? { externalMb: app.externalMb } : {}), leaseMs: app.leaseMs, requestMs: app.requestMs }).replace('"__ENTRY__"', `new URL(${JSON.stringify(entry)}, import.meta.url)`)}

test(${JSON.stringify(title)}, async () => {
  const { failure } = await replay(app, ${json(run).replace(/\n/g, '\n  ')})
  assert.equal(failure, null, failure ? \`still fails: \${failure.kind}\${failure.frame ? \` at \${failure.frame}\` : ''}\${failure.name ? \`: \${failure.name}: \${failure.message}\` : ''}\` : '')
})
`
}

/**
 * Writes the regression test for a triaged incident under `dir` (`<id>.test.mjs`) and returns
 * its path; null when nothing reproduced.
 */
export async function writeRegressionTest(incident: Incident, report: TriageReport, dir: string): Promise<string | null> {
  if (!report.setup || !incident.app) return null
  const file = join(dir, `${incident.id}.test.mjs`)
  await mkdir(dir, { recursive: true })
  await writeFile(file, regressionTestSource(incident, { ...report, setup: report.setup }, file))
  return file
}

function isEmpty(tape: Tape): boolean {
  return tape.now.length + tape.perf.length + tape.random.length + tape.uuid.length + tape.bytes.length + tape.reads.length === 0
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2)
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 200 ? `${line.slice(0, 199)}…` : line
}

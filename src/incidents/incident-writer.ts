import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Incident } from './incident.js'
import { rememberIncident } from './recent-incidents.js'

/**
 * Writes incidents as JSON files (`<dir>/<id>.json`), off the request path: a slow or full disk
 * delays the file, never a response. Failures are logged once per streak.
 *
 * @example
 * ```ts
 * const writer = new IncidentWriter('.crashless/incidents', log)
 * writer.write(incident)
 * await writer.idle()
 * ```
 */
export class IncidentWriter {
  private pending = new Set<Promise<void>>()
  private failing = false

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Where an incident's file is (or will be). */
  pathOf(id: string): string {
    return join(this.dir, `${id}.json`)
  }

  write(incident: Incident): void {
    rememberIncident(incident, this.pathOf(incident.id))
    const done = this.save(incident).finally(() => this.pending.delete(done))
    this.pending.add(done)
  }

  /** Resolves once every incident handed in so far is on disk (or failed). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  private async save(incident: Incident): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true })
      await writeFile(this.pathOf(incident.id), `${JSON.stringify(incident, null, 2)}\n`)
      this.failing = false
      this.log.info({ event: 'incident', incidentId: incident.id, verdict: incident.verdict, path: this.pathOf(incident.id) }, `incident ${incident.id} written`)
    } catch (err) {
      if (!this.failing) this.log.warn({ event: 'incident-write-failed', incidentId: incident.id, error: (err as Error).message }, 'could not write an incident file')
      this.failing = true
    }
  }
}

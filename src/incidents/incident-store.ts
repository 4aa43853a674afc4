import { mkdir, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { capture, type CaptureContext, type IncidentDraft } from './capture.js'
import { OCCURRENCES_KEPT, type Incident } from './incident.js'
import { folderFiles } from './incident-files.js'
import { rememberIncident } from './recent-incidents.js'
import { triagePathOf } from './stored-triage.js'

/** Bounds of the incidents folder (`incidents.maxCount`, `incidents.maxBytes`). */
export interface Retention {
  maxCount: number
  maxBytes: number
}

/** A rescan of the folder (other runtimes write there too) at most this often while pruning. */
const RESCAN_MS = 5_000

/**
 * Writes incidents as JSON files (`<dir>/<id>.json`), off the request path: a slow or full disk
 * delays the file, never a response. Identical failures (same kind, error name, first in-app
 * frame, route when there is no frame, and verdict) are counted in the first one's incident
 * rather than written again, so a flood of distinct requests hitting one bug leaves one file.
 * The folder is bounded in count and bytes: the oldest incidents are pruned first, each with
 * its kept triage (`<id>.triage.json`, see stored-triage.ts), whose bytes count too. Writes are
 * atomic (a temporary file renamed), so a reader never sees half an incident. Failures are
 * logged once per streak.
 *
 * @example
 * ```ts
 * const store = new IncidentStore('.crashless/incidents', { maxCount: 1000, maxBytes: 64 << 20 }, context, log)
 * store.write(draft)
 * await store.idle()
 * ```
 */
export class IncidentStore {
  /** Incidents written by this runtime, by failure identity, oldest first (bounded by maxCount). */
  private readonly byIdentity = new Map<string, Incident>()
  /** Incidents waiting to be (re)written, by id: a count bumped ten times before the disk caught up is written once. */
  private readonly dirty = new Map<string, Incident>()
  /**
   * The folder as this runtime knows it: id -> bytes of the incident and of its kept triage
   * (`crashless triage` writes those; a rescan sees them), oldest first; null until first scanned.
   */
  private files: Map<string, { own: number; triage: number }> | null = null
  private scannedAt = 0
  /** Incidents whose file was written once: later writes are counts, not news (the `incident` line). */
  private readonly logged = new WeakSet<Incident>()
  private draining: Promise<void> | null = null
  private failing = false

  constructor(
    readonly dir: string,
    private readonly retention: Retention,
    private readonly context: CaptureContext,
    private readonly log: Logger,
  ) {}

  /** Where an incident's file is (or will be). */
  pathOf(id: string): string {
    return join(this.dir, `${id}.json`)
  }

  /** Records a failure: a new incident, or one more count on an identical one. */
  write(draft: IncidentDraft): void {
    const incident = capture(draft, this.context)
    const identity = identityOf(incident)
    const known = this.byIdentity.get(identity)
    if (known) {
      known.count = (known.count ?? 1) + 1
      known.lastAt = incident.at
      const occurrences = (known.occurrences ??= [])
      occurrences.push({ id: incident.id, at: incident.at, signature: incident.signature, requestId: incident.request.requestId })
      if (occurrences.length > OCCURRENCES_KEPT) occurrences.splice(0, occurrences.length - OCCURRENCES_KEPT)
      this.log.info({ event: 'incident-counted', incidentId: incident.id, countedIn: known.id, count: known.count }, `incident ${incident.id} is identical to ${known.id}: counted there`)
      this.schedule(known)
      return
    }
    this.byIdentity.set(identity, incident)
    if (this.byIdentity.size > this.retention.maxCount) this.byIdentity.delete(this.byIdentity.keys().next().value!)
    this.schedule(incident)
  }

  /** Resolves once every incident handed in so far is on disk (or failed). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining
  }

  private schedule(incident: Incident): void {
    this.dirty.set(incident.id, incident)
    this.draining ??= this.drain().finally(() => (this.draining = null))
  }

  private async drain(): Promise<void> {
    while (this.dirty.size > 0) {
      const [id, incident] = this.dirty.entries().next().value!
      this.dirty.delete(id)
      await this.save(incident)
    }
  }

  private async save(incident: Incident): Promise<void> {
    const path = this.pathOf(incident.id)
    try {
      await mkdir(this.dir, { recursive: true })
      const text = `${JSON.stringify(incident, null, 2)}\n`
      const temporary = join(this.dir, `.${incident.id}.${process.pid}.tmp`)
      await writeFile(temporary, text)
      await rename(temporary, path)
      // Not `count === 1`: identical failures counted while this write was on disk would hide
      // the first write's line (a flood of one bug then logged no `incident` at all).
      const first = !this.logged.has(incident)
      this.logged.add(incident)
      this.failing = false
      // The dashboard lists incidents with a file; a count bumped in one updates its row.
      rememberIncident(incident, path)
      if (first) this.log.info({ event: 'incident', incidentId: incident.id, verdict: incident.verdict, kind: incident.kind, path }, `incident ${incident.id} written`)
      await this.prune(incident.id, Buffer.byteLength(text))
    } catch (err) {
      if (!this.failing) this.log.warn({ event: 'incident-write-failed', incidentId: incident.id, error: (err as Error).message }, 'could not write an incident file')
      this.failing = true
    }
  }

  /** Deletes the oldest incidents while the folder is over its bounds (never the one just written). */
  private async prune(written: string, bytes: number): Promise<void> {
    if (this.files === null) await this.scan()
    const files = this.files!
    const triage = files.get(written)?.triage ?? 0
    files.delete(written)
    files.set(written, { own: bytes, triage })
    if (!this.over(files)) return
    // Others may have written or pruned since: act on what is there now.
    if (performance.now() - this.scannedAt > RESCAN_MS) await this.scan()
    const ordered = [...this.files!.keys()].sort()
    let pruned = 0
    for (const id of ordered) {
      if (!this.over(this.files!)) break
      if (id === written) continue
      this.files!.delete(id)
      for (const [identity, incident] of this.byIdentity) if (incident.id === id) this.byIdentity.delete(identity)
      await unlink(this.pathOf(id)).catch(() => {})
      await unlink(triagePathOf(this.dir, id)).catch(() => {})
      pruned++
    }
    if (pruned > 0) this.log.debug({ event: 'incidents-pruned', count: pruned }, `${pruned} old incident(s) pruned`)
  }

  private over(files: Map<string, { own: number; triage: number }>): boolean {
    if (files.size > this.retention.maxCount) return true
    let total = 0
    for (const { own, triage } of files.values()) total += own + triage
    return total > this.retention.maxBytes && files.size > 1
  }

  private async scan(): Promise<void> {
    const { incidents, orphanTriages } = await folderFiles(this.dir)
    this.files = new Map(incidents.map((f) => [f.id, { own: f.bytes, triage: f.triageBytes }]))
    this.scannedAt = performance.now()
    // A triage written while its incident was pruned (saveTriage removes its own, but may die first).
    for (const id of orphanTriages) await unlink(triagePathOf(this.dir, id)).catch(() => {})
  }
}

/** Failures are identical when kind, error name, first in-app frame (else route) and verdict are. */
function identityOf(incident: Incident): string {
  const where = incident.frame ?? `${incident.request.method} ${incident.request.url.split('?')[0]}`
  return `${incident.kind ?? ''}|${incident.error?.name ?? ''}|${where}|${incident.verdict}`
}

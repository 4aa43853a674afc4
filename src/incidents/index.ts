/**
 * The incidents room: what a failure leaves behind (capture, redaction, the environment
 * fingerprint), where it is kept (a bounded folder, identical failures counted once), and what
 * reads it (`crashless incidents`, `replay`, `env`, exports, the admin endpoint).
 */
export { createIncidentId, isIncidentId, type Incident, type IncidentError, type IncidentStep, type Neighbour } from './incident.js'
export { redactHeaders, type RedactRules } from './redact.js'
export type { IncidentDraft, NeighbourDraft } from './capture.js'
export { IncidentStore } from './incident-store.js'
export { openIncidentStore } from './open-incident-store.js'
export { listIncidents, readIncident, summarize, type IncidentSummary } from './incident-files.js'
export { readTriage, saveTriage, storedTriage, summarizeTriage, triagePathOf, type StoredTriage, type TriageSummary } from './stored-triage.js'
export { fingerprint, hashConfig, type Fingerprint } from './fingerprint.js'
export { diffFingerprints, MATTERS, type EnvDifference } from './env-diff.js'
export { firstAppFrame } from './stack-frame.js'
export { toOtelEvent, toSentryEvent } from './export-event.js'
export { recordedRequest, replayApp, replayIncident, type AppRun, type ReplayOptions, type ReplayResult } from './replay.js'
export { triageIncident, type TriageClass, type TriageOptions, type TriageReport, type TriageSetting } from './triage.js'
export { regressionTestSource, writeRegressionTest } from './regression-test.js'
export type { IncidentApp } from './incident.js'
export { loadRecentIncidents, recentIncidents, refreshTriages, type RecentIncident } from './recent-incidents.js'

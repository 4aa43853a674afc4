export { createIncidentId, redactHeaders, type Incident, type IncidentStep } from './incident.js'
export { IncidentWriter } from './incident-writer.js'
export { recentIncidents, type IncidentSummary } from './recent-incidents.js'

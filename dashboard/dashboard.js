// The crashless dashboard: reads the admin endpoint's server-sent events (GET /events) and
// renders them. Plain browser JavaScript, no build step, nothing loaded from elsewhere.
//
// Everything shown is set with textContent, never as markup: signatures, URLs and messages
// come from the service's clients. The page's Content-Security-Policy forbids inline script
// as a second lock.
'use strict'

const TOKEN_KEY = 'crashless-admin-token'
const pageToken = document.querySelector('meta[name="crashless-page-token"]').content
let adminToken = sessionStorage.getItem(TOKEN_KEY)
/** The JSON each section was last drawn from: a section is redrawn only when it changed, so a button is not replaced under the pointer. */
const drawn = {}

const $ = (id) => document.getElementById(id)

/** An element with text and a class; `text` is always text. */
function el(tag, text, className) {
  const node = document.createElement(tag)
  if (text !== undefined && text !== null) node.textContent = String(text)
  if (className) node.className = className
  return node
}

function row(cells) {
  const tr = document.createElement('tr')
  for (const cell of cells) tr.append(cell instanceof Node ? cell : el('td', cell))
  return tr
}

function emptyRow(columns, text) {
  const td = el('td', text)
  td.colSpan = columns
  const tr = document.createElement('tr')
  tr.className = 'empty'
  tr.append(td)
  return tr
}

function td(text, className) {
  return el('td', text, className)
}

function authHeaders(extra) {
  const headers = { ...extra }
  if (adminToken) headers.authorization = `Bearer ${adminToken}`
  return headers
}

function duration(ms) {
  if (ms < 1_000) return `${Math.round(ms)} ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

function clock(epochMs) {
  return new Date(epochMs).toLocaleTimeString([], { hour12: false })
}

function setConnection(state, text) {
  const node = $('connection')
  node.dataset.state = state
  node.textContent = text
}

/** Draws `section` with `draw(data)` unless it was last drawn from the same data. */
function once(section, data, draw) {
  const key = JSON.stringify(data)
  if (drawn[section] === key) return
  drawn[section] = key
  draw(data)
}

function render(snapshot) {
  const { runtime } = snapshot
  $('runtime').textContent = `runtime ${runtime.pid} · up ${duration(runtime.uptimeMs)} · ${runtime.inFlight} in flight · ${runtime.queued} queued`
  once('totals', { recoveries: runtime.recoveries, keeper: runtime.keeper ?? null }, drawTotals)
  drawInstances(runtime)
  once('timeline', snapshot.timeline, drawTimeline)
  once('immunity', snapshot.immunity, drawImmunity)
  once('incidents', snapshot.incidents, drawIncidents)
}

const TOTALS = [
  ['suppressed', 'suppressed crashes'], ['reserved', 're-served'], ['isolated', 'isolated'], ['reruns', 'ladder re-runs'],
  ['cures', 'cures'], ['quarantines', 'quarantines'], ['quarantineHits', 'quarantine hits'], ['instancesLost', 'instances lost'],
  ['rejuvenations', 'rejuvenations'], ['deadlines', 'deadlines'],
]

const sum = (counts) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0)

/** The runtime's recoveries, and under a keeper its runtime deaths (ladder level 4) and reloads, which outlive each runtime. */
function drawTotals({ recoveries, keeper }) {
  const totals = TOTALS.map(([key, label]) => [key, label, recoveries[key] ?? 0])
  if (keeper) totals.push(['runtimeDeaths', 'runtime deaths', sum(keeper.runtimeDeaths)], ['reloads', 'reloads', keeper.reloads.succeeded ?? 0])
  const items = totals.map(([key, label, value]) => {
    const item = document.createElement('div')
    item.append(el('dt', label), el('dd', value))
    item.dataset.key = key
    return item
  })
  $('totals').replaceChildren(...items)
}

function drawInstances(runtime) {
  const rows = runtime.instances.map((i) => {
    const tr = row([td(i.id), td(i.role), td(i.state, `state-${i.state}`), td(`${i.heapMb.toFixed(1)} / ${i.heapCapMb}`, 'num'), td(i.inflight, 'num'), td(i.uptimeMs > 0 ? duration(i.uptimeMs) : 'starting', 'num'), td(i.served, 'num'), td(i.recoveries, 'num')])
    tr.dataset.role = i.role
    return tr
  })
  if (runtime.starting > 0) rows.push(emptyRow(8, `${runtime.starting} instance(s) starting`))
  $('instances').tBodies[0].replaceChildren(...rows)
}

const GOOD_EVENTS = new Set(['cured', 'cleared', 'listening', 'rejuvenated'])
const DETAIL_FIELDS = ['component', 'scope', 'group', 'rule', 'instance', 'role', 'reason', 'why', 'kind', 'tweak', 'signature', 'probe', 'trials', 'outcome', 'method', 'url', 'action', 'error', 'promoted', 'requestId', 'incidentId', 'swapMs', 'heapMb', 'served', 'deadlineMs']

function drawTimeline(events) {
  const items = [...events].reverse().map((e) => {
    const li = document.createElement('li')
    li.dataset.event = e.event
    const level = GOOD_EVENTS.has(e.event) ? 'ok' : e.level >= 50 ? 'error' : e.level >= 40 ? 'warn' : ''
    const what = el('div', e.msg)
    const details = DETAIL_FIELDS.filter((k) => e.fields[k] !== undefined && e.fields[k] !== null).map((k) => `${k} ${e.fields[k]}`)
    if (details.length > 0) what.append(el('span', details.join(' · '), 'detail'))
    const time = el('time', clock(e.at))
    time.dateTime = new Date(e.at).toISOString()
    li.append(time, el('span', e.event, `badge ${level}`), what)
    return li
  })
  if (items.length === 0) items.push(el('li', 'nothing has failed yet', 'muted'))
  $('timeline').replaceChildren(...items)
}

function drawImmunity(immunity) {
  const { entries, entriesTotal, quarantined, cured } = immunity
  $('immunity-summary').textContent = `${quarantined} quarantined, ${cured} cured, ${entriesTotal} in all${entriesTotal > entries.length ? ` (first ${entries.length} shown; crashless immunity ls lists all)` : ''}`
  const rows = entries.map((e) => {
    const status = e.quarantinedUntil > 0 ? 'quarantined' : e.cure ? `cured by ${e.cure}` : 'failing'
    const until = e.quarantinedUntil > 0 ? e.quarantinedUntil : e.curedUntil
    const button = el('button', 'release')
    button.type = 'button'
    button.title = 'Forget what was learned about this signature: its requests run again'
    button.addEventListener('click', () => release(e.signature, button))
    const actions = document.createElement('td')
    actions.append(button)
    const tr = row([td(e.signature, 'sig'), td(status, `status-${status.split(' ')[0]}`), td(e.failures, 'num'), td(e.lastFailure), td(until > 0 ? clock(until) : ''), actions])
    tr.dataset.status = status.split(' ')[0]
    return tr
  })
  if (rows.length === 0) rows.push(emptyRow(6, 'no signature has failed'))
  $('immunity').tBodies[0].replaceChildren(...rows)
}

/** How each incident verdict looks: a request that failed for good must not look cured. */
const VERDICT_CLASS = { poison: 'status-quarantined', failed: 'status-failed', cured: 'status-cured', cleared: 'status-cleared' }

/** How each triage class looks: a bug that fails every time stands out; one that did not reproduce is quiet. */
const TRIAGE_BADGE = { deterministic: 'error', resource: 'warn', concurrency: 'warn', environment: '', 'not-reproducible': 'muted' }

/** What `crashless triage` said (kept beside the incident), or how to ask it. */
function triageCell(i) {
  const cell = el('td', undefined, 'triage')
  const t = i.triage
  if (!t) {
    cell.append(el('span', 'not triaged: ', 'muted'), el('code', `crashless triage ${i.id}`))
    return cell
  }
  const badge = el('span', t.class, `badge ${TRIAGE_BADGE[t.class] ?? ''}`)
  badge.dataset.class = t.class
  cell.append(badge, el('span', ` ${t.agreeing}/${t.runs} runs agreed`, 'confidence'))
  const details = [`cure ${t.cure ?? 'none'}`]
  if (t.minimized) details.push(`minimised ${t.minimized}`)
  if (t.regressionTest) details.push(`test ${t.regressionTest}`)
  cell.append(el('span', details.join(' · '), 'detail'))
  cell.title = `triaged ${t.triagedAt}`
  return cell
}

function drawIncidents(incidents) {
  const rows = incidents.map((i) => {
    const count = i.count > 1 ? ` ×${i.count}` : ''
    const tr = row([td(clock(Date.parse(i.at))), td(`${i.verdict}${count}`, VERDICT_CLASS[i.verdict] ?? ''), td(`${i.method} ${i.url}`, 'req'), td(i.failures.join(', ')), td(i.cure ?? ''), td(i.instancesSpent, 'num'), td(duration(i.durationMs), 'num'), triageCell(i), td(i.id, 'sig')])
    tr.title = i.path
    tr.dataset.verdict = i.verdict
    tr.dataset.id = i.id
    tr.dataset.triage = i.triage ? i.triage.class : 'none'
    return tr
  })
  if (rows.length === 0) rows.push(emptyRow(9, 'no incident yet'))
  $('incidents').tBodies[0].replaceChildren(...rows)
}

function notice(text, bad) {
  const node = $('notice')
  node.textContent = text
  node.classList.toggle('bad', Boolean(bad))
}

async function release(signature, button) {
  button.disabled = true
  try {
    const res = await fetch(`/immunity/${encodeURIComponent(signature)}`, { method: 'DELETE', headers: authHeaders({ 'x-crashless-page-token': pageToken }), cache: 'no-store' })
    if (res.ok) {
      notice(`released ${signature}`)
      button.closest('tr').remove()
      return
    }
    const body = await res.json().catch(() => null)
    notice(`release failed: ${body?.error?.message ?? `HTTP ${res.status}`}`, true)
  } catch (err) {
    notice(`release failed: ${err.message}`, true)
  }
  button.disabled = false
}

function askToken(error) {
  setConnection('down', 'token needed')
  $('token-form').hidden = false
  $('token-error').textContent = error
  $('token-input').focus()
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault()
  adminToken = $('token-input').value.trim()
  sessionStorage.setItem(TOKEN_KEY, adminToken)
  $('token-form').hidden = true
  void connect()
})

/** Reads the event stream with fetch (EventSource cannot send the token), redrawing on each event. */
async function connect() {
  setConnection('connecting', 'connecting…')
  let res
  try {
    res = await fetch('/events', { headers: authHeaders({ accept: 'text/event-stream' }), cache: 'no-store' })
  } catch {
    return retry()
  }
  if (res.status === 401) return askToken(adminToken ? 'that token was refused' : '')
  if (!res.ok || !res.body) return retry()
  setConnection('live', 'live')
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += value
      let end
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n')
        if (data) render(JSON.parse(data))
      }
    }
  } catch {
    // The stream broke (the runtime restarted or the network dropped): reconnect below.
  }
  retry()
}

function retry() {
  setConnection('down', 'disconnected: retrying')
  setTimeout(connect, 1_000)
}

void connect()

// Hand-written SVG line chart (no dependency): successful actions per second over the run's time,
// one polyline per peer, axes with ticks, a legend, and a dashed vertical marker at each fault time.
const W = 760
const H = 340
const M = { left: 56, right: 130, top: 34, bottom: 44 }
const COLORS = { crashless: '#d62728', pm2: '#1f77b4', cluster: '#2ca02c', node: '#7f7f7f' }
const FALLBACK = ['#9467bd', '#8c564b', '#e377c2', '#17becf']

/**
 * series: [{ name, binMs, counts }] (counts of successful actions per bin, plotted as per-second
 * rates at each bin's middle); markers: [{ atMs, label }].
 */
export function lineChartSvg({ title, durationMs, series, markers = [], yLabel = 'successful actions / s' }) {
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const rates = series.map((s) => s.counts.map((c) => (c * 1000) / s.binMs))
  const yMax = niceMax(Math.max(1, ...rates.flat()))
  const x = (ms) => M.left + (ms / durationMs) * pw
  const y = (v) => M.top + ph - (v / yMax) * ph
  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`)
  out.push(`<text x="${M.left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`)
  // grid and y ticks
  const yStep = yMax / 5
  for (let i = 0; i <= 5; i++) {
    const v = yStep * i
    out.push(`<line x1="${M.left}" y1="${f(y(v))}" x2="${M.left + pw}" y2="${f(y(v))}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${M.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${fmt(v)}</text>`)
  }
  // x ticks every second (every 2 s past 20 s)
  const xStep = durationMs > 20_000 ? 2000 : 1000
  for (let ms = 0; ms <= durationMs + 1; ms += xStep) {
    out.push(`<line x1="${f(x(ms))}" y1="${M.top + ph}" x2="${f(x(ms))}" y2="${M.top + ph + 5}" stroke="#000"/>`)
    out.push(`<text x="${f(x(ms))}" y="${M.top + ph + 18}" text-anchor="middle">${ms / 1000}</text>`)
  }
  out.push(`<line x1="${M.left}" y1="${M.top + ph}" x2="${M.left + pw}" y2="${M.top + ph}" stroke="#000"/>`)
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="#000"/>`)
  out.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle">time since the start of the run (s)</text>`)
  out.push(`<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`)
  for (const m of markers) {
    out.push(`<line x1="${f(x(m.atMs))}" y1="${M.top}" x2="${f(x(m.atMs))}" y2="${M.top + ph}" stroke="#000" stroke-dasharray="5 4"/>`)
    out.push(`<text x="${f(x(m.atMs) + 4)}" y="${M.top + 12}">${esc(m.label)}</text>`)
  }
  series.forEach((s, i) => {
    const color = COLORS[s.name] ?? FALLBACK[i % FALLBACK.length]
    const pts = rates[i].map((v, j) => `${f(x(Math.min(durationMs, (j + 0.5) * s.binMs)))},${f(y(v))}`).join(' ')
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" points="${pts}"/>`)
    const ly = M.top + 10 + i * 20
    out.push(`<line x1="${M.left + pw + 14}" y1="${ly}" x2="${M.left + pw + 38}" y2="${ly}" stroke="${color}" stroke-width="3"/>`)
    out.push(`<text x="${M.left + pw + 44}" y="${ly + 4}">${esc(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** 1, 2 or 5 times a power of ten, at least v: round tick values. */
function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

const f = (n) => n.toFixed(1)
const fmt = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1))
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

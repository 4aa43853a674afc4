// Plain-text table: columns padded to their widest cell, numbers right-aligned.
export function formatTable(header, rows) {
  const cells = [header, ...rows].map((row) => row.map((c) => (c === undefined || c === null ? '-' : String(c))))
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)))
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] === 'number' || /^[-+]?[\d.]+(x|%| ms)?$/.test(String(r[i] ?? '-')) || r[i] === undefined))
  const line = (row) => row.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n')
}

import parsePrometheusTextFormat from 'parse-prometheus-text-format'

/** One scrape of `/metrics`, parsed by a real Prometheus text-format parser. */
export interface Scrape {
  families: ReturnType<typeof parsePrometheusTextFormat>
  /** The value of the series of `name` whose labels include `labels` (a histogram: its count); undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined
}

/** Scrapes `adminUrl`/metrics and parses it. */
export async function scrape(adminUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(`${adminUrl}/metrics`, { headers, signal: AbortSignal.timeout(5_000) })
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${await res.text()}`)
  if (!/^text\/plain; version=0\.0\.4/.test(res.headers.get('content-type') ?? '')) throw new Error(`unexpected content-type ${res.headers.get('content-type')}`)
  const families = parsePrometheusTextFormat(await res.text())
  return {
    families,
    value(name, labels = {}) {
      const family = families.find((f) => f.name === name)
      const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
      if (!sample) return undefined
      return Number(family!.type === 'HISTOGRAM' ? sample.count : sample.value)
    },
  }
}

/** Scrapes until `done` holds for a scrape (bounded by `timeoutMs`); returns that scrape, or throws with the last one's failure. */
export async function scrapeUntil(adminUrl: string, done: (s: Scrape) => boolean, timeoutMs = 10_000): Promise<Scrape> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const s = await scrape(adminUrl)
    if (done(s)) return s
    if (Date.now() > end) throw new Error(`metrics did not reach the expected values within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

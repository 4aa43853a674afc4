import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'

/**
 * The dashboard's files, shipped in the package's `dashboard/` folder (package.json `files`):
 * plain HTML, CSS and JavaScript, no build step and nothing fetched from elsewhere. Read once,
 * on the first request for the page, and kept.
 */
const FOLDER = new URL('../../../dashboard/', import.meta.url)

/** The paths the dashboard is served at, and their types. */
export const DASHBOARD_ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
}

/**
 * What the page may do: its own script and style, requests to this endpoint only, nothing
 * inline (the data it renders never becomes markup; this is the second lock), no framing.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** Where the page's per-process anti-forgery token goes (a `<meta>` the page's script reads). */
const TOKEN_SLOT = '{{PAGE_TOKEN}}'

const cache = new Map<string, string>()

/**
 * Answers `GET` of one dashboard asset. The page carries `pageToken`, which its script sends
 * back in `x-crashless-page-token` with every change it asks for (see request-origin.ts): a
 * page of another site can neither read it nor send a custom header without a CORS preflight
 * that this endpoint never grants.
 *
 * @example
 * ```ts
 * if (DASHBOARD_ASSETS[path]) return sendAsset(res, path, pageToken)
 * ```
 */
export function sendAsset(res: ServerResponse, path: string, pageToken: string): void {
  const asset = DASHBOARD_ASSETS[path]!
  let text = cache.get(asset.file)
  if (text === undefined) {
    text = readFileSync(new URL(asset.file, FOLDER), 'utf8')
    cache.set(asset.file, text)
  }
  const body = path === '/' ? text.replace(TOKEN_SLOT, pageToken) : text
  res.writeHead(200, {
    'content-type': asset.type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': CSP,
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

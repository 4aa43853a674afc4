/** Redaction, the first in-app frame, env diff's ranking and the incidents config (issue 11.1, 11.5). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveConfig } from '../../src/config/index.js'
import { diffFingerprints, fingerprint, firstAppFrame, redactHeaders } from '../../src/incidents/index.js'
import { redactBody, redactSignature, redactUrl } from '../../src/incidents/redact.js'
import { ddmin, describePart, partsOf, withParts } from '../../src/incidents/minimize.js'
import { environmentVariables } from '../../src/incidents/env-vars.js'
import { environmentTweaks } from '../../src/incidents/environment-tweaks.js'

const rules = { headers: ['x-tenant'], bodyFields: ['ssn'] }

test('headers: credentials by name and by what the name contains, plus configured names', () => {
  const raw = ['Authorization', 'a', 'Proxy-Authorization', 'b', 'Cookie', 'c', 'Set-Cookie', 'd', 'X-Api-Key', 'e', 'X-Auth-Token', 'f', 'X-Session-Id', 'g', 'X-Client-Secret', 'h', 'X-Password', 'i', 'X-Tenant', 'j', 'Accept', 'k', 'Host', 'l']
  const kept = redactHeaders(raw, rules).filter(([, v]) => v !== '[redacted]').map(([n]) => n)
  assert.deepEqual(kept, ['Accept', 'Host'])
})

test('bodies: JSON at any depth, forms, and malformed or cut JSON by pattern', () => {
  assert.equal(redactBody('{"a":[{"password":"p"}],"ssn":"1","n":{"apiToken":"t","x":1}}', 'application/json; charset=utf-8', rules), '{"a":[{"password":"[redacted]"}],"ssn":"[redacted]","n":{"apiToken":"[redacted]","x":1}}')
  assert.equal(redactBody('user=ann&password=p&ssn=1', 'application/x-www-form-urlencoded', rules), 'user=ann&password=%5Bredacted%5D&ssn=%5Bredacted%5D')
  assert.equal(redactBody('{"user":"ann","password":"hunt', 'application/json', rules), '{"user":"ann","password":"[redacted]"')
  assert.equal(redactBody('plain text password=p', 'text/plain', rules), 'plain text password=p')
})

test('query parameters: the default secret names and configured body fields; the rest of the URL byte for byte', () => {
  assert.equal(redactUrl('/s?token=t1&api_key=k2&q=ok', rules), '/s?token=[redacted]&api_key=[redacted]&q=ok')
  assert.equal(redactUrl('/s?Session=1&x-auth=2&SSN=3&q=a%20b+c&flag&access%5Ftoken=4#frag', rules), '/s?Session=[redacted]&x-auth=[redacted]&SSN=[redacted]&q=a%20b+c&flag&access%5Ftoken=[redacted]#frag')
  assert.equal(redactUrl('/s?password&q=1', rules), '/s?password=[redacted]&q=1')
  assert.equal(redactUrl('/plain/path', rules), '/plain/path')
  assert.equal(redactSignature('GET /s?api_key=k2&q=ok #3f2a', rules), 'GET /s?api_key=[redacted]&q=ok #3f2a')
})

test('the first in-app frame skips Node, node_modules and crashless itself', () => {
  const stack = ['Error: x', '    at JSON.parse (<anonymous>)', '    at node:internal/x:1:1', '    at lib (/srv/app/node_modules/lib/i.js:3:4)', '    at async handler (file:///srv/app/src/routes.mjs:12:9)'].join('\n')
  assert.equal(firstAppFrame(stack, '/srv/app'), 'src/routes.mjs:12:9')
  assert.equal(firstAppFrame('Error: x\n    at lib (/srv/app/node_modules/lib/i.js:3:4)', '/srv/app'), null)
})

test('env diff: a dependency, Node major and a memory limit first; host name and uptime last', () => {
  const here = fingerprint(process.cwd(), 'sha256:a')
  const there = { ...here, node: '18.19.0', host: 'elsewhere', uptimeS: here.uptimeS + 100, memory: { ...here.memory, cgroupLimitMb: 512 }, dependencies: { ...here.dependencies, semver: '7.5.4' }, timeZone: 'Europe/Oslo' }
  const paths = diffFingerprints(there, here).map((d) => d.path)
  assert.deepEqual(paths, ['dependencies.semver', 'node', 'memory.cgroupLimitMb', 'timeZone', 'host', 'uptimeS'])
  assert.deepEqual(diffFingerprints(here, here), [])
  assert.ok(Object.keys(here.dependencies).includes('express') && here.lockfile?.file === 'package-lock.json' && here.glibc !== undefined)
})

test('incidents options are validated by path; redaction names are lower-cased', () => {
  const resolve = (incidents: object) => resolveConfig({ entry: '/srv/app.ts', incidents }, { baseDir: '/', source: 'test' })
  assert.deepEqual(resolve({}).incidents, { dir: '.crashless/incidents', maxCount: 1000, maxBytes: 64 * 1024 * 1024, maxBodyBytes: 64 * 1024, record: true, redact: { headers: [], bodyFields: [], env: [] } })
  assert.deepEqual(resolve({ redact: { headers: ['X-Tenant'], env: ['LICENSE'] } }).incidents.redact, { headers: ['x-tenant'], bodyFields: [], env: ['license'] })
  assert.throws(() => resolve({ maxCount: 0 }), { path: 'incidents.maxCount' })
  assert.throws(() => resolve({ redact: { bodyFields: ['ok', ''] } }), { path: 'incidents.redact.bodyFields[1]' })
  assert.throws(() => resolve({ redact: { header: [] } }), { path: 'incidents.redact.header' })
  assert.throws(() => resolve({ maxCont: 3 }), { message: /did you mean incidents\.maxCount\?/ })
})

test('ddmin keeps only the parts a failure needs, within its budget', async () => {
  const parts = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
  let calls = 0
  const needs = async (kept: string[]): Promise<boolean> => {
    calls++
    return kept.includes('c') && kept.includes('f')
  }
  const { kept, tests } = await ddmin(parts, needs, 100)
  assert.deepEqual(kept, ['c', 'f'])
  assert.equal(tests, calls)
  assert.deepEqual((await ddmin(parts, async () => true, 100)).kept, [])
  assert.ok((await ddmin(parts, needs, 3)).tests <= 3)
})

test('a request loses query parameters, headers (never host) and JSON or form fields one by one', () => {
  const request = { method: 'PUT', url: '/u?id=1&x=2&x=3', headers: [['Host', 'h'], ['X-Trace', 't'], ['content-type', 'application/json']] as [string, string][], body: '{"a":1,"__proto__":{"p":1}}', bodyEncoding: 'utf8' as const, session: false }
  const parts = partsOf(request)
  assert.deepEqual(parts.map(describePart), ['query id', 'query x', 'query x', 'header X-Trace', 'header content-type', 'body a', 'body __proto__'])
  const kept = withParts(request, parts, [parts[2]!, parts[4]!, parts[6]!])
  assert.equal(kept.url, '/u?x=3')
  assert.deepEqual(kept.headers, [['Host', 'h'], ['content-type', 'application/json']])
  assert.equal(kept.body, '{"__proto__":{"p":1}}')
  assert.equal(withParts(request, parts, parts).url, request.url)
})

test('environment variables: credentials by name, URL passwords and long values never kept whole', () => {
  const env = environmentVariables({ NODE_ENV: 'production', DB_PASSWORD: 'x', STRIPE_KEY: 'k', DATABASE_URL: 'postgres://u:p@db/app', LICENSE: 'l', BIG: 'z'.repeat(300) }, ['license'])
  assert.deepEqual(Object.keys(env), ['BIG', 'DATABASE_URL', 'DB_PASSWORD', 'LICENSE', 'NODE_ENV', 'STRIPE_KEY'])
  assert.equal(env.DATABASE_URL, 'postgres://[redacted]@db/app')
  assert.deepEqual([env.DB_PASSWORD, env.STRIPE_KEY, env.LICENSE, env.NODE_ENV], ['[redacted]', '[redacted]', '[redacted]', 'production'])
  assert.match(env.BIG!, /^z{64}… \(300 chars, sha256:[0-9a-f]{16}\)$/)
})

test('environment tweaks: variables set or removed as they were there, the time zone as TZ; never a redacted value or the shell', () => {
  const here = fingerprint(process.cwd(), null)
  const env: Record<string, string> = { ...here.env, FEATURE: 'on', SECRET_TOKEN: '[redacted]', OLDPWD: '/x' }
  delete env.TZ
  const there = { ...here, timeZone: 'Asia/Tokyo', env }
  const names = environmentTweaks(there, { ...here, env: { ...here.env, GONE: '1' } }).map((t) => `${t.variable}=${t.value}`)
  assert.deepEqual(names, ['FEATURE=on', 'GONE=null', 'TZ=Asia/Tokyo'])
})

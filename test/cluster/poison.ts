/**
 * Makes a poison request known to every node: sent once through nginx, the node that got it
 * runs the recovery ladder and quarantines its signature, and the others learn the verdict over
 * the verdict channel. Not a test file itself.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type { Cluster } from './harness/index.js'

/** One request through nginx's socket, on a connection of its own. */
export function viaNginx(cluster: Cluster, path: string, method = 'GET'): Promise<{ status: number; body: string; node: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: cluster.nginx.socket, path, method, agent: false, headers: { host: 'cluster' }, timeout: 20_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, body, node: (res.headers['x-node'] as string | undefined) ?? null }))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} within 20 s`)))
    req.on('error', reject)
    req.end()
  })
}

/**
 * Sends the poison `path` through nginx and waits until every node holds the quarantine of
 * `signature`; resolves with the node that judged it and each other node's logged delay (ms from
 * the verdict to it being applied there).
 */
export async function quarantineEverywhere(cluster: Cluster, path: string, signature: string): Promise<{ judge: string; propagationMs: number[] }> {
  const answer = await viaNginx(cluster, path)
  assert.equal(answer.status, 500)
  assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'CRASHLESS_ERR_POISON', answer.body)
  // Log lines may trail the answer: wait for the node that judged it to say so.
  const judge = await Promise.any(cluster.nodes.map((n) => n.waitForLog((l) => l.event === 'quarantined' && l.signature === signature, 10_000).then(() => n)))
  const others = cluster.nodes.filter((n) => n !== judge)
  const lines = await Promise.all(others.map((n) => n.waitForLog((l) => l.event === 'immunity-verdict' && l.signature === signature && l.verdict === 'quarantine', 10_000)))
  return { judge: judge.name, propagationMs: lines.map((l) => Number(l.delayMs)) }
}

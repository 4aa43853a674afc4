/**
 * The cluster's load balancer: a real nginx (Debian's package) in the hub namespace, configured
 * as docs/deployment.md recommends ({@link nginxSite} writes that part), listening on a Unix
 * socket for the test's clients.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isAlive, killAll, processTree, spawnIn, type NsProcess } from './ns-process.js'

/** The timeouts and bounds of the site; the docs' values unless a test needs faster verdicts. */
export interface SiteOptions {
  /** `host:port` of each node. */
  upstreams: string[]
  /** `listen` argument (`80`, `unix:/path`). */
  listen: string
  /** Passive health: failures within `failTimeoutS` that take a node out for `failTimeoutS`. Default 1 and 5. */
  maxFails?: number
  failTimeoutS?: number
  /** Most nodes one request is tried on (the first included). Default 3. */
  tries?: number
  /** Connecting to a node (a cut-off node never answers a SYN). Default 1 s. */
  connectTimeoutS?: number
  /** Waiting for a node's answer; longer than crashless's own deadline (timeouts.requestMs, 30 s). Default 35 s. */
  readTimeoutS?: number
}

/**
 * The upstream and server blocks of the recommended nginx config (an `http { }` context's
 * content): round robin over the nodes with keep-alive connections to them (closed by nginx
 * before crashless's 5 s keep-alive timeout would close them under a request); a request that
 * failed to connect, or whose node failed or timed out, goes to the next node, but only when
 * nginx may send it twice (`non_idempotent` is not set: a POST that reached a node is never
 * sent to another by nginx; the client retries it with its Idempotency-Key); passive health.
 *
 * @example
 * ```ts
 * nginxSite({ upstreams: ['10.0.0.11:3000', '10.0.0.12:3000'], listen: '80' })
 * ```
 */
export function nginxSite(options: SiteOptions): string {
  const maxFails = options.maxFails ?? 1
  const failTimeout = options.failTimeoutS ?? 5
  return `upstream crashless {
${options.upstreams.map((u) => `    server ${u} max_fails=${maxFails} fail_timeout=${failTimeout}s;`).join('\n')}
    keepalive 64;
    keepalive_timeout 4s;
}

server {
    listen ${options.listen};

    location / {
        proxy_pass http://crashless;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;

        proxy_next_upstream error timeout;
        proxy_next_upstream_tries ${options.tries ?? 3};
        proxy_next_upstream_timeout ${(options.readTimeoutS ?? 35) + 10}s;
        proxy_connect_timeout ${options.connectTimeoutS ?? 1}s;
        proxy_send_timeout ${options.readTimeoutS ?? 35}s;
        proxy_read_timeout ${options.readTimeoutS ?? 35}s;
    }
}
`
}

export interface ClusterNginx {
  /** The Unix socket it listens on. */
  readonly socket: string
  readonly config: string
  stop(): Promise<void>
}

/**
 * Writes the config (the site inside a minimal main context: no daemon, logs and temp files in
 * `dir`) and starts nginx in `ns`; resolves once the socket is there.
 *
 * @example
 * ```ts
 * const nginx = await startNginx(network.hub, dir, { upstreams, readTimeoutS: 3 })
 * ```
 */
export async function startNginx(ns: string, dir: string, site: Omit<SiteOptions, 'listen'>): Promise<ClusterNginx> {
  const socket = join(dir, 'nginx.sock')
  const config = `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;

${nginxSite({ ...site, listen: `unix:${socket}` }).replace(/^/gm, '    ')}
}
`
  const file = join(dir, 'nginx.conf')
  writeFileSync(file, config)
  const server: NsProcess = spawnIn(ns, 'nginx', ['-c', file, '-p', dir, '-e', `${dir}/nginx-error.log`])
  const deadline = Date.now() + 10_000
  while (!existsSync(socket)) {
    if (!server.alive() || Date.now() > deadline) {
      killAll(processTree(server.pid))
      throw new Error(`nginx did not start in ${ns}:\n${server.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return {
    socket,
    config,
    stop: async () => {
      if (!server.alive()) return
      // Workers outlive a SIGKILLed master: ask for a fast shutdown, then reap what is left by pid.
      const tree = processTree(server.pid)
      server.child.kill('SIGTERM')
      const timer = setTimeout(() => killAll(tree), 3_000)
      await server.exited
      clearTimeout(timer)
      killAll(tree.filter(isAlive))
    },
  }
}

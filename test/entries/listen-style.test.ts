// Listen-style entries: unmodified scripts that bind their own server. Each is started with
// PORT set to a free port and no --port flag, so crashless must serve on the port the script
// asked for.
import { describeEntry, freePort } from './route-checks.js'

describeEntry({ file: 'plain-http.mjs', app: 'plain-http', style: 'listen', appPort: freePort })
describeEntry({ file: 'express-listen.mjs', app: 'express-listen', style: 'listen', appPort: freePort })
describeEntry({ file: 'fastify-listen.mjs', app: 'fastify-listen', style: 'listen', appPort: freePort })
describeEntry({ file: 'koa-listen.mjs', app: 'koa-listen', style: 'listen', appPort: freePort })
describeEntry({ file: 'hono-node-server.ts', app: 'hono-node-server', style: 'listen', appPort: freePort })
describeEntry({ file: 'express-listen.ts', app: 'express-listen-ts', style: 'listen', appPort: freePort })
describeEntry({ file: 'fastify-listen.mjs', app: 'fastify-listen', style: 'listen', appPort: freePort, isolation: 'process' })

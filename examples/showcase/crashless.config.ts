// Settings for the showcase: short limits so each fault is visible within a second.
import { defineConfig } from '../../dist/src/index.js'

export default defineConfig({
  entry: './app.ts',
  port: 3000,
  host: '127.0.0.1',
  instances: 2,
  limits: { heapMb: 96 },
  timeouts: { requestMs: 3000, leaseMs: 500 },
})

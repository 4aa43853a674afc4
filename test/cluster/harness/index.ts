/**
 * The cluster harness, shared by the tests under test/cluster/ and by `npm run bench:cluster`
 * (which imports the compiled dist/test/cluster/harness/index.js): a deployment as
 * docs/deployment.md recommends, made of real parts in network namespaces, a load of clients
 * doing what the docs ask of them, and a Jepsen-style checker.
 */
export { createNetwork, networkUnavailable, type Network, type NodeSlot } from './network.js'
export { startClusterRedis, type ClusterRedis } from './redis.js'
export { nginxSite, startNginx, type ClusterNginx, type SiteOptions } from './nginx.js'
export { ADMIN_PORT, NODE_PORT, nsRequest, repoRoot, startCrashlessNode, startPm2Node, type ClusterNode, type Peer } from './nodes.js'
export { isAlive, killAll, processTree, spawnIn, type LogLine, type NsProcess } from './ns-process.js'
export { startLoad, type Attempt, type Load, type LoadOptions, type Op, type OpKind } from './load.js'
export { check, longestOutage, readCrashlessStore, readPlainStore, type StoreView, type Verdict } from './checker.js'
export { startCluster, type Cluster, type ClusterOptions } from './cluster.js'
export { runScenario, type Scenario, type ScenarioOptions, type ScenarioResult } from './scenario.js'

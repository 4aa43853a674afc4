import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { readCacheBytes, resolveComponents, resolveGroups, type ResolvedConfig } from '../config/index.js'
import { Committer, Idempotency, type Dispatcher } from '../dispatch/index.js'
import { ImmunityTable } from '../immunity/index.js'
import { parseInFlight } from '../in-flight/index.js'
import type { ReadyMessage, SerializedError, ToInstance } from '../protocol.js'
import type { StateBackend } from '../state/index.js'
import type { Instance, InstanceLoss } from '../supervise/index.js'
import type { InstanceRole } from '../metrics/index.js'
import { Component } from './component.js'
import { Probes } from './probes.js'
import { RestartTree } from './restart-tree.js'
import { RouteTable } from './route-table.js'

type RuntimeDeaths = Parameters<Dispatcher['adoptRuntimeDeaths']>[0]

/** What the runtime hands the components besides its config. */
export interface ComponentHooks {
  /** Spares of a component keep failing to start after the service was up: the runtime gives up. */
  readonly onStartFailures: (entry: string, error: SerializedError) => void
  /** The restart tree's top: the runtime should be replaced (the keeper's standby). */
  readonly escalate: ((why: string) => void) | undefined
}

/**
 * The components of one runtime (issue 16): one per entry of `components` plus `default`, each
 * with its own pool and dispatcher, sharing one committer, one set of idempotency claims, one
 * immunity table and one incident directory. Routes each request by the longest prefix its URL
 * starts with (route-table.ts) and runs the restart tree over them (restart-tree.ts). Reads for
 * the control plane add the components up.
 *
 * @example
 * ```ts
 * const components = new ComponentSet(config, log, backend, secrets, hooks)
 * await components.start()
 * front.on('request', (req, res) => components.submit(req, res, null))
 * ```
 */
export class ComponentSet {
  readonly all: readonly Component[]
  /** The component serving what no prefix matches. */
  readonly fallback: Component
  readonly immunity: ImmunityTable
  readonly commits: Committer
  private readonly table: RouteTable<Component>

  constructor(config: ResolvedConfig, log: Logger, backend: StateBackend | null, secrets: readonly string[] | null, hooks: ComponentHooks) {
    // Instances may cache store reads (issue 14.2): a commit in any component invalidates the
    // keys it wrote in every component's instances.
    const caching = backend !== null && readCacheBytes(config) > 0
    this.commits = new Committer(backend, config.state.maxCommitRetries, log, caching ? (keys) => this.invalidate(keys) : null)
    this.immunity = new ImmunityTable(config.immunity)
    const shared = { commits: this.commits, idempotency: backend ? new Idempotency(backend, config.replay, log) : null, immunity: this.immunity }
    const specs = resolveComponents(config)
    const members = new Map<Component, { name: string; group: string | null; policy: { intensity: number; periodMs: number }; pool: Component['pool'] }>()
    const tree = (): RestartTree => restartTree
    const context = {
      config,
      log,
      backend,
      secrets,
      shared,
      immunity: this.immunity,
      probes: new Probes(),
      onStartFailures: (component: Component, error: SerializedError) => hooks.onStartFailures(component.config.entry, error),
      onUnexplainedLoss: (component: Component, loss: InstanceLoss) => tree().lost(members.get(component)!, `${loss.reason}${loss.error ? ` ${loss.error.name}: ${loss.error.message}` : ''}`),
    }
    this.all = specs.map((spec) => new Component(spec, context))
    for (const component of this.all) members.set(component, { name: component.name, group: component.spec.group, policy: { intensity: component.spec.intensity, periodMs: component.spec.periodMs }, pool: component.pool })
    const restartTree = new RestartTree([...members.values()], resolveGroups(config), { intensity: config.recovery.runtimeIntensity, periodMs: config.recovery.runtimePeriodMs }, log, hooks.escalate)
    this.fallback = this.all[this.all.length - 1]!
    this.table = new RouteTable(this.all.flatMap((component) => component.spec.prefixes.map((prefix) => [prefix, component] as const)), this.fallback)
  }

  private invalidate(keys: string[]): void {
    const message: ToInstance = { type: 'store-invalidate', keys }
    for (const component of this.all) for (const { instance } of component.pool.roster()) instance.post(message)
  }

  /** The component a request for `url` goes to. */
  route(url: string): Component {
    return this.table.route(url)
  }

  /** Hands a request to its component's dispatcher. */
  submit(req: IncomingMessage, res: ServerResponse, body: SharedArrayBuffer | null): void {
    this.table.route(req.url ?? '/').dispatcher.submit(req, res, body)
  }

  /** Hands an upgrade request to its component. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.table.route(req.url ?? '/').upgrades.accept(req, socket, head)
  }

  /**
   * Starts every component's instances at once; resolves with the `default` one's first `ready`
   * (what the app asked to listen on). When any fails, all are stopped and its error rethrown.
   */
  async start(): Promise<ReadyMessage> {
    const started = await Promise.allSettled(this.all.map((component) => component.start()))
    const failed = started.find((result) => result.status === 'rejected')
    if (failed) {
      await this.stop()
      throw (failed as PromiseRejectedResult).reason
    }
    return (started[started.length - 1] as PromiseFulfilledResult<ReadyMessage>).value
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((component) => component.stop()))
  }

  /** After this, responses ask clients to close their connection; upgrades are refused. */
  beginClosing(): void {
    for (const component of this.all) {
      component.dispatcher.beginClosing()
      component.upgrades.beginClosing()
    }
  }

  /** Requests accepted and not yet answered, in all components. */
  get pending(): number {
    return this.sum((component) => component.dispatcher.pending)
  }

  /** Requests waiting for an instance, in all components. */
  get queued(): number {
    return this.sum((component) => component.dispatcher.queued)
  }

  /** Upgraded connections open, in all components. */
  get upgraded(): number {
    return this.sum((component) => component.upgrades.size)
  }

  /** A figure added up over every component (the reads above). */
  private sum(read: (component: Component) => number): number {
    let n = 0
    for (const component of this.all) n += read(component)
    return n
  }

  closeUpgrades(): void {
    for (const component of this.all) component.upgrades.closeAll()
  }

  /** Every instance with its role (a scrape's read). */
  roster(): { instance: Instance; role: InstanceRole }[] {
    return this.all.flatMap((component) => component.pool.roster())
  }

  /** Serving instances of every component. */
  get active(): Instance[] {
    return this.all.flatMap((component) => component.pool.active)
  }

  get spareCount(): number {
    return this.sum((component) => component.pool.spareCount)
  }

  get startingCount(): number {
    return this.sum((component) => component.pool.startingCount)
  }

  /** The pool's advertised port, for every component (captured servers' `address()`). */
  setAdvertisedPort(port: number): void {
    for (const component of this.all) component.pool.setAdvertisedPort(port)
  }

  /**
   * What the keeper learned from earlier runtime deaths, each record adopted by the component
   * its URL routes to, so each is quarantined or held once.
   */
  adoptRuntimeDeaths(deaths: RuntimeDeaths, onCleared: (records: string[]) => void): void {
    const mine = (component: Component, list: RuntimeDeaths['poison']): RuntimeDeaths['poison'] =>
      this.all.length === 1 ? list : list.filter(({ record }) => this.route(parseInFlight(record)?.url ?? '/') === component)
    for (const component of this.all) component.dispatcher.adoptRuntimeDeaths({ poison: mine(component, deaths.poison), suspects: mine(component, deaths.suspects) }, onCleared)
  }
}

import type { Logger } from 'pino'
import { componentConfig, type ResolvedComponent, type ResolvedConfig } from '../config/index.js'
import { Dispatcher, UpgradeDispatcher, type DispatcherShared } from '../dispatch/index.js'
import type { ImmunityTable } from '../immunity/index.js'
import { isUpgradeTraffic, PROBE_ID_BASE, type FromInstance, type SerializedError } from '../protocol.js'
import type { StateBackend } from '../state/index.js'
import { Pool, type Instance, type InstanceLoss } from '../supervise/index.js'
import { BadAnswers } from './bad-answers.js'
import { CorrupterSearch } from './corrupter-search.js'
import { Ejections } from './ejections.js'
import { HealthChecks } from './health-checks.js'
import type { Probes } from './probes.js'

/** What every component of a runtime shares. */
export interface ComponentContext {
  readonly config: ResolvedConfig
  readonly log: Logger
  readonly backend: StateBackend | null
  readonly secrets: readonly string[] | null
  readonly shared: DispatcherShared
  readonly immunity: ImmunityTable
  readonly probes: Probes
  /** Spares of this component keep failing to start after the service was up. */
  readonly onStartFailures: (component: Component, error: SerializedError) => void
  /** One of its serving instances was lost with no request to blame (see restart-tree.ts). */
  readonly onUnexplainedLoss: (component: Component, loss: InstanceLoss) => void
}

/**
 * One component (DESIGN.md: the unit of microreboot): its own pool of instances and spares, its
 * own dispatcher (queue, in-flight table, recovery ladder; the commits, idempotency claims and
 * immunity table are the runtime's), its upgraded connections, the watch on its answers and its
 * health check. A fault in it reboots its instances only.
 *
 * @example
 * ```ts
 * const bids = new Component(spec, context)
 * await bids.pool.start()
 * bids.dispatcher.submit(req, res, body)
 * ```
 */
export class Component {
  readonly name: string
  /** Its config: the runtime's, with its own entry, instances, spares and limits. */
  readonly config: ResolvedConfig
  readonly dispatcher: Dispatcher
  readonly upgrades: UpgradeDispatcher
  readonly pool: Pool
  readonly ejections: Ejections
  private readonly answers: BadAnswers
  private readonly search: CorrupterSearch
  private readonly health: HealthChecks | null
  private readonly rotation: NodeJS.Timeout
  private readonly probes: Probes

  constructor(
    readonly spec: ResolvedComponent,
    context: ComponentContext,
  ) {
    this.name = spec.name
    this.config = componentConfig(context.config, spec)
    const named = spec.prefixes.length > 0
    const log = named ? context.log.child({ component: spec.name }) : context.log
    const { probes } = context
    const dispatcher = (this.dispatcher = new Dispatcher(this.config, log, context.backend, context.secrets, context.shared, spec.name))
    const upgrades = (this.upgrades = new UpgradeDispatcher(log, (req, res) => dispatcher.submit(req, res, null)))
    this.pool = new Pool(
      this.config,
      log,
      {
        onMessage: (instance, msg) => this.relay(instance, msg),
        onLost: (instance, loss, swapMs) => {
          probes.lost(instance)
          upgrades.closeInstance(instance, loss)
          dispatcher.handleLost(instance, loss, swapMs)
        },
        onCapacity: () => {
          dispatcher.pump()
          this.search.capacity()
        },
        onTainted: (instance) => dispatcher.moveUnstarted(instance),
        onStalled: (instance, requestId, runMs) => dispatcher.stalls.stalled(instance, requestId, runMs),
        stillLimitMs: (instance, requestId) => dispatcher.stalls.limitMs(instance, requestId),
        onStalledApart: (instance, requestId) => dispatcher.stalls.stalledApart(instance, requestId),
        leaseMs: (instance, requestId) => dispatcher.stalls.leaseMs(instance, requestId),
        onStretch: (instance, requestId, ms) => dispatcher.stalls.learn(instance, requestId, ms),
        onRetired: (instance) => upgrades.closeInstance(instance, { reason: 'retired', error: null, culprit: null, fatal: null, exitCode: null }),
        onStartFailures: (error) => context.onStartFailures(this, error),
        onUnexplainedLoss: (_instance, loss) => context.onUnexplainedLoss(this, loss),
      },
      named ? `${spec.name}/` : '',
    )
    dispatcher.attach(this.pool)
    upgrades.attach(this.pool)
    // Their lines name the component, the default one's too (a named one's logger says it already).
    const said = named ? log : log.child({ component: spec.name })
    this.ejections = new Ejections(spec.name, this.pool, this.config.outliers, said)
    this.search = new CorrupterSearch({ component: spec.name, config: this.config, pool: this.pool, probes, immunity: context.immunity, incidents: dispatcher.incidents, log: said })
    this.answers = new BadAnswers(this.pool, dispatcher, this.ejections, this.config.outliers, (instance, probe) => this.search.start(instance, probe))
    this.health = spec.healthCheck === null ? null : new HealthChecks(this.pool, probes, this.ejections, spec.healthCheck, this.config.outliers.intensity, (instance, check) => this.search.start(instance, null, check))
    this.rotation = setInterval(() => this.answers.rotate(), Math.max(10, this.config.outliers.windowMs / 10))
    this.rotation.unref()
    this.probes = probes
  }

  /** Starts its instances (resolves with the first one's `ready`), then its health check. */
  async start(): Promise<Awaited<ReturnType<Pool['start']>>> {
    const ready = await this.pool.start()
    this.health?.start()
    return ready
  }

  async stop(): Promise<void> {
    clearInterval(this.rotation)
    this.health?.stop()
    await this.pool.stop()
  }

  /**
   * A message from one of its instances: probes' to the probes, answers through the watch on
   * bad answers (which may drop a 5xx to re-serve its request), the rest where it always went.
   */
  private relay(instance: Instance, msg: FromInstance): void {
    switch (msg.type) {
      case 'response':
      case 'head':
        if (msg.id >= PROBE_ID_BASE) return this.probes.handle(instance, msg)
        if (this.answers.answered(instance, msg.id, msg.status)) return
        break
      case 'chunk':
      case 'end':
        if (msg.id >= PROBE_ID_BASE) return
        break
      case 'request-failed':
        if (msg.id >= PROBE_ID_BASE) return this.probes.handle(instance, msg)
        if (!msg.started && this.answers.answered(instance, msg.id, 500)) return
        break
      case 'request-crashed':
        // Still the dispatcher's too: a crash taints its instance whoever's request it was.
        if (msg.id >= PROBE_ID_BASE) this.probes.handle(instance, msg)
        break
      default:
        if (isUpgradeTraffic(msg)) return this.upgrades.handleMessage(instance, msg)
    }
    this.dispatcher.handleMessage(instance, msg)
  }
}

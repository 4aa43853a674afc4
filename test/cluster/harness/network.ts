/**
 * A private network for a cluster test, made of Linux network namespaces (`ip netns`): a hub
 * namespace holding a bridge (where Redis and nginx run) and one namespace per node, each joined
 * to the hub by a veth pair and given its own address. Nothing is added to the machine's own
 * namespace: the test reaches nginx and Redis through Unix sockets, and a node's admin endpoint
 * through `ip netns exec`. A node can be cut off (its veth on the hub side set down, like a
 * cable pulled at the switch) and reconnected. Names are unique per run; `destroy()` deletes
 * every namespace, and an exit hook does it too if the test process dies first.
 */
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

/** The subnet inside the sandbox: the namespaces route nowhere else, so any private range works. */
const SUBNET = '10.77.0'
const HUB_ADDRESS = `${SUBNET}.1`

/** One node's place in the network. */
export interface NodeSlot {
  /** The namespace's name (for `ip netns exec`). */
  ns: string
  /** Its address on the bridge. */
  address: string
  /** Its veth's name in the hub namespace (what `cut` sets down). */
  hubLink: string
}

/** The sandbox network. */
export interface Network {
  /** The hub namespace (bridge, Redis, nginx). */
  hub: string
  /** The hub's address on the bridge (where Redis listens). */
  hubAddress: string
  nodes: NodeSlot[]
  /** Cuts node `index` off: its link on the hub side goes down. */
  cut(index: number): Promise<void>
  /** Plugs it back in. */
  reconnect(index: number): Promise<void>
  /** Deletes every namespace (and so every link); processes inside must be stopped first. */
  destroy(): Promise<void>
}

/** Runs `ip <args>`; rejects with its stderr. */
export function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(new Error(`ip ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)))
  })
}

/** Why cluster tests cannot run here, or null: they need root, iproute2 and network namespaces. */
export function networkUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root'
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' })
  } catch {
    return 'the `ip` command (iproute2) is missing'
  }
  return null
}

/** Namespaces made by this process and not deleted yet, for the exit hook. */
const live = new Set<string>()
let hooked = false

function deleteNow(ns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
  } catch {
    // Already gone.
  }
  live.delete(ns)
}

/**
 * Creates the hub and `nodes` node namespaces, wired and addressed: the hub at 10.77.0.1, node i
 * at 10.77.0.(11 + i).
 *
 * @example
 * ```ts
 * const network = await createNetwork(3)
 * await network.cut(2)
 * await network.reconnect(2)
 * await network.destroy()
 * ```
 */
export async function createNetwork(nodes: number): Promise<Network> {
  const tag = `crl${process.pid.toString(36)}${randomBytes(2).toString('hex')}`
  const hub = `${tag}-hub`
  if (!hooked) {
    hooked = true
    process.once('exit', () => [...live].forEach(deleteNow))
  }
  const made: string[] = []
  const add = async (ns: string): Promise<void> => {
    await ip(['netns', 'add', ns])
    live.add(ns)
    made.push(ns)
    await ip(['-n', ns, 'link', 'set', 'lo', 'up'])
  }
  const slots: NodeSlot[] = []
  try {
    await add(hub)
    await ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge'])
    await ip(['-n', hub, 'addr', 'add', `${HUB_ADDRESS}/24`, 'dev', 'br0'])
    await ip(['-n', hub, 'link', 'set', 'br0', 'up'])
    for (let i = 0; i < nodes; i++) {
      const ns = `${tag}-n${i + 1}`
      const hubLink = `h${i + 1}`
      const address = `${SUBNET}.${11 + i}`
      await add(ns)
      // Both ends made straight in their namespaces: nothing appears in the machine's own.
      await ip(['link', 'add', 'name', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', hubLink, 'netns', hub])
      await ip(['-n', hub, 'link', 'set', hubLink, 'master', 'br0'])
      await ip(['-n', hub, 'link', 'set', hubLink, 'up'])
      await ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up'])
      slots.push({ ns, address, hubLink })
    }
  } catch (err) {
    made.forEach(deleteNow)
    throw err
  }
  return {
    hub,
    hubAddress: HUB_ADDRESS,
    nodes: slots,
    cut: async (index) => void (await ip(['-n', hub, 'link', 'set', slots[index]!.hubLink, 'down'])),
    reconnect: async (index) => void (await ip(['-n', hub, 'link', 'set', slots[index]!.hubLink, 'up'])),
    destroy: async () => {
      for (const ns of made.reverse()) {
        await ip(['netns', 'del', ns]).catch(() => {})
        live.delete(ns)
      }
    },
  }
}

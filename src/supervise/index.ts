export { Pool, type PoolHooks } from './pool.js'
export { type Instance, type InstanceLoss, type LossReason } from './instance.js'
export { isTakenBack, type Isolation, type TakenBack } from './instance-channel.js'
export { shapeKey, type InstanceShape, type SacrificialNeed } from './sacrificial-set.js'

export { Pool, type PoolHooks } from './pool.js'
export type { Instance, InstanceLoss, LossReason } from './instance.js'
export { shapeKey, type InstanceShape, type SacrificialNeed } from './sacrificial-set.js'

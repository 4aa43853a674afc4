export { ComponentSet, type ComponentHooks } from './component-set.js'
export { type Component } from './component.js'
export { RouteTable } from './route-table.js'

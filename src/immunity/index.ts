export { computeSignature, type SignatureInput, type SignatureSpec } from './signature.js'
export { ImmunityTable, type ImmunityEntry, type ImmunityOptions } from './immunity-table.js'
export { ImmunityStore } from './immunity-store.js'
export { openImmunityStore } from './open-immunity-store.js'

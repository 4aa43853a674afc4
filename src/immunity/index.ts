export { computeSignature, type SignatureInput } from './signature.js'
export { ImmunityTable, type ImmunityEntry, type ImmunityOptions } from './immunity-table.js'

// The eBid client emulator (API.md, "Client emulator"): emulated users walking a Markov chain of
// user actions with body checks, and the poison attacker.
export { runEmulation } from './emulation.js'
export { runAttacker } from './attacker.js'
export { STATES, TRANSITIONS } from './markov.js'

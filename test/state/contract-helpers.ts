import type { StateBackend } from '../../src/state/index.js'

/** Makes a fresh, empty backend of the kind under test. */
export type MakeBackend = () => Promise<StateBackend>

/** UTF-8 bytes of a string. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
/** The string a value holds. */
export const text = (value: Uint8Array): string => Buffer.from(value).toString('utf8')

/** Runs `body` against a fresh backend and always closes it. */
export async function withBackend(make: MakeBackend, body: (backend: StateBackend) => Promise<void>): Promise<void> {
  const backend = await make()
  try {
    await body(backend)
  } finally {
    await backend.close()
  }
}

import { chromium, type Browser } from 'playwright-core'

/** Debian's chromium: the tests never download a browser (.ci/run installs the package). */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * A headless Debian chromium driven by playwright-core. The flags keep it from reaching for
 * the network at start (this machine has none but loopback, and refused connections slow it
 * down); --no-sandbox because tests run as root.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  })
}

/**
 * Debian's Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`) driven by playwright-core, with a
 * fresh profile per launch. No test downloads a browser. The flags turn off Chromium's own
 * background connections (updates, sync, QUIC probes), which this machine's closed network refuses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import type { SystemTool } from './systemTools.js';

export const CHROMIUM: SystemTool = {
  path: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  install: 'apt-get install -y chromium',
};

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedBrowser {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * @example
 * const browser = await launchChromium({ width: 1400, height: 1000 });
 * const page = await browser.context.newPage();
 * await browser.close();
 */
export async function launchChromium(viewport = { width: 1400, height: 1000 }): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'lb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM.path,
    headless: true,
    args: ARGS,
    viewport,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

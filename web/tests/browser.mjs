// Debian's Chromium driven by playwright-core (no browser download), headless.
import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// extraArgs: more Chromium switches (a fake microphone, say).
export async function launch({ extraArgs = [], ...options } = {}) {
  const profile = await mkdtemp(path.join(tmpdir(), 'nj-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.NJ_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

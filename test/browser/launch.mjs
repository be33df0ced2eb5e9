// Starts Debian's headless Chromium for the playground tests, with a fresh
// profile and the flags this machine's closed network needs. close() ends
// the browser and removes the profile.
import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function launch(extraArgs = []) {
  const profile = await mkdtemp(join(tmpdir(), 'falproxy-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...extraArgs,
    ],
    viewport: { width: 1100, height: 1000 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(30_000);
  const close = async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  };
  return { context, close };
}

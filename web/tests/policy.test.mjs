// A new version of the privacy policy (the "change" section): the operator installs it and
// restarts; a major version is mailed to everyone once; at the next sign-in the person is
// asked to read and accept it, and nothing changes for them until they do; the privacy
// centre then lists the versions with what changed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { outputDir, startServer } from './server.mjs';
import { launch } from './browser.mjs';

const out = path.join(outputDir(), 'browser', 'policy');
let server, browser, policyDir, login;

async function installPolicy(version, { major = false, changes = '' } = {}) {
  await writeFile(path.join(policyDir, 'version'), `${version}\n`);
  await writeFile(path.join(policyDir, 'en.md'), `# Privacy policy\n\nVersion ${version} of our promises.\n`);
  if (major) await writeFile(path.join(policyDir, 'major'), '');
  if (changes) await writeFile(path.join(policyDir, 'changes.md'), changes);
}

before(async () => {
  await mkdir(out, { recursive: true });
  policyDir = await mkdtemp(path.join(tmpdir(), 'nj-policy-'));
  await installPolicy('2026-01');
  const config = `[accounts]\npolicy_dir = "${policyDir}"\n`;
  // The demo account accepts the policy of its day.
  const first = await startServer({ extraArgs: ['--demo'], config });
  for (let i = 0; i < 100 && !login; ++i) {
    login = first.log().match(/Demo login: (\S+) \/ (\S+)/);
    if (!login) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(login, first.log());
  assert.equal(await first.stop({ keep: true }), 0);
  // The operator installs a major new version and starts the server again.
  await installPolicy('2026-12', { major: true, changes: 'Event pictures are now kept for 14 days.' });
  server = await startServer({ extraArgs: ['--demo'], config, dataDir: first.dataDir });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
  await rm(policyDir, { recursive: true, force: true });
});

test('a changed policy is asked for at the next sign-in, and accepting it ends the question', async () => {
  // Everyone was told of the major change by e-mail, once.
  const outbox = await server.admin('outbox');
  assert.equal(outbox.split('\n').filter((l) => l.includes('privacy policy') && l.includes('2026-12')).length, 1, outbox);
  const page = await browser.context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(`${server.url}/signin`);
  await page.locator('input[name="email"]').fill(login[1]);
  await page.locator('input[name="password"]').fill(login[2]);
  await page.locator('button[type="submit"]').click();
  const banner = page.getByTestId('policy-banner');
  await banner.filter({ hasText: 'Our privacy policy has changed (version 2026-12)' }).waitFor();
  await page.screenshot({ path: path.join(out, 'policy-banner-en-desktop.png') });
  // Reading it is one click away; the banner stays until they accept.
  await banner.getByRole('link').click();
  await page.getByText('Version 2026-12 of our promises.').waitFor();
  await banner.waitFor();
  await page.getByTestId('policy-accept').click();
  await banner.waitFor({ state: 'detached' });
  await page.reload();
  await page.goto(`${server.url}/account/privacy`);
  const history = page.getByTestId('policy-history');
  await history.locator('li').filter({ hasText: '2026-12' }).filter({ hasText: 'Event pictures are now kept for 14 days.' }).waitFor();
  await page.getByText('You accepted version 2026-12').waitFor();
  assert.equal(await page.getByTestId('policy-banner').count(), 0, 'not asked again');
  assert.deepEqual(problems, []);
  await page.close();
});

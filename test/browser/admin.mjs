// Drives the admin page in Debian's headless Chromium: connect with the
// admin key, create a virtual key (shown once), use it on the playground
// and on the API, see its spend in the list, revoke it. Run by a Go test,
// which starts falproxy on the fal emulator with a store, ADMIN_KEY and
// the playground on:
//   FALPROXY_URL=http://127.0.0.1:8000 FALPROXY_ADMIN_KEY=... node admin.mjs
// SCREENSHOT names the PNG of the page at the end.
import assert from 'node:assert/strict';
import { launch } from './launch.mjs';

const base = process.env.FALPROXY_URL;
const adminKey = process.env.FALPROXY_ADMIN_KEY;
const screenshot = process.env.SCREENSHOT || '/tmp/falproxy-admin.png';
assert.ok(base && adminKey, 'FALPROXY_URL and FALPROXY_ADMIN_KEY must be set');

const { context, close } = await launch();

async function generate(key) {
  const resp = await fetch(base + '/v1/images/generations', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'flux-dev', prompt: 'a key-shaped lighthouse' }),
  });
  await resp.arrayBuffer();
  return resp.status;
}

try {
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(base + '/admin');
  await page.fill('#admin-key', adminKey);
  await page.click('#admin-connect');
  await page.waitForFunction(() => document.querySelector('#status').classList.contains('ok'));

  await page.fill('#new-name', 'design');
  await page.fill('#new-owner', 'ana');
  await page.fill('#new-models', 'flux-dev');
  await page.fill('#new-rpm', '30');
  await page.fill('#new-budget', '5');
  await page.selectOption('#new-period', 'daily');
  await page.click('#create');
  await page.waitForSelector('#created:not([hidden])');
  const secret = (await page.textContent('#created-key')).trim();
  assert.match(secret, /^sk-fp-[A-Za-z0-9_-]{40,}$/);

  const row = page.locator('#keys tbody tr[data-name="design"]');
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  assert.deepEqual(cells.slice(0, 9), ['design', 'ana', secret.slice(0, 12) + '…', 'flux-dev', '30', '—', '$5.00 daily', '$0.00', 'active']);

  // The playground takes the virtual key.
  const play = await context.newPage();
  await play.goto(base + '/');
  await play.fill('#key', secret);
  await play.click('#connect');
  await play.waitForFunction(() => document.querySelector('#status').classList.contains('ok'));
  await play.close();

  // A request with the key shows up as spend once the ledger has it.
  assert.equal(await generate(secret), 200);
  let spent = '';
  for (let i = 0; i < 100 && spent !== '$0.03'; i++) {
    await page.click('#admin-connect');
    await page.waitForTimeout(50);
    spent = (await row.locator('.spent').textContent()).trim();
  }
  assert.equal(spent, '$0.03', 'the spend of one flux-dev image');

  await row.locator('.revoke').click();
  await row.waitFor({ state: 'detached' });
  assert.equal(await generate(secret), 401, 'a revoked key is refused');

  assert.deepEqual(problems, [], 'the page logged errors');
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`admin page: created, used, saw the spend of and revoked a key; screenshot ${screenshot}`);
} finally {
  await close();
}

// Drives the playground's video tab in Debian's headless Chromium: enter
// the key, make a video from a prompt, seconds, size and an image, and
// watch the <video> play the emulator's H.264 MP4. Run by a Go test, which
// starts falproxy on the fal emulator with the playground on:
//   FALPROXY_URL=http://127.0.0.1:8000 FALPROXY_KEY=... IMAGE_PATH=fox.png node video.mjs
// SCREENSHOT names the PNG of the tab at the end.
import assert from 'node:assert/strict';
import { launch } from './launch.mjs';

const base = process.env.FALPROXY_URL;
const key = process.env.FALPROXY_KEY;
const screenshot = process.env.SCREENSHOT || '/tmp/falproxy-playground-video.png';
assert.ok(base && key && process.env.IMAGE_PATH, 'FALPROXY_URL, FALPROXY_KEY and IMAGE_PATH must be set');

const { context, close } = await launch(['--autoplay-policy=no-user-gesture-required']);

try {
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(base + '/');
  await page.fill('#key', key);
  await page.click('#connect');
  await page.waitForFunction(() => document.querySelector('#status').classList.contains('ok'));

  await page.click('#tab-video');
  const offered = await page.$$eval('#video-model option', (os) => os.map((o) => o.value));
  assert.ok(offered.includes('sora-2') && !offered.includes('flux-dev'), `video models offered: ${offered}`);
  await page.selectOption('#video-model', 'sora-2');
  await page.fill('#video-prompt', 'a fox running through fresh snow');
  await page.fill('#video-seconds', '8');
  await page.fill('#video-size', '1280x720');
  await page.setInputFiles('#video-image', process.env.IMAGE_PATH);
  await page.click('#make-video');

  // The browser decodes the MP4 and plays it: frames of its size, and
  // the playhead moving.
  await page.waitForFunction(() => {
    const v = document.querySelector('#video-results .run video');
    return v && v.readyState >= 2 && v.videoWidth === 160 && !v.paused && v.currentTime > 0;
  });
  const run = page.locator('#video-results .run').first();
  assert.equal(await run.getAttribute('data-state'), 'done');
  assert.match(await run.locator('.meta').textContent(), /^sora-2 · 8 s · 1280x720 · \d+\.\d\d s$/);

  assert.deepEqual(problems, [], 'the page logged errors');
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`playground video: the MP4 plays; screenshot ${screenshot}`);
} finally {
  await close();
}

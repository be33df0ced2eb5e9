// Drives the falproxy playground in Debian's headless Chromium as a person
// would: enter the key, generate an image and watch it load, then chat and
// watch the streamed answer arrive, then a streamed response and an
// embedding in the Responses tab. Run by a Go test, which starts falproxy
// on the fal emulator with the playground on and passes its address:
//   FALPROXY_URL=http://127.0.0.1:8000 FALPROXY_KEY=... node playground.mjs
// SCREENSHOT names the PNG of the chat at the end; two more beside it, with
// "-images" and "-phone" before the extension, show the image results on a
// desktop and the page at phone width.
import assert from 'node:assert/strict';
import { launch } from './launch.mjs';

const base = process.env.FALPROXY_URL;
const key = process.env.FALPROXY_KEY;
const screenshot = process.env.SCREENSHOT || '/tmp/falproxy-playground.png';
const variant = (name) => screenshot.replace(/(\.png)?$/, `-${name}.png`);
assert.ok(base && key, 'FALPROXY_URL and FALPROXY_KEY must be set');

/** toneWav is a WAV recording of n 16-bit samples at 16 kHz. */
function toneWav(n) {
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(16000, 24); b.writeUInt32LE(32000, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), 44 + 2 * i);
  return b;
}

// The fake microphone plays a tone and needs no permission prompt.
const { context, close } = await launch(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);

try {
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  // The browser reports every failed request on the console; the wrong key
  // (401) and the failing job (502) below are failures on purpose.
  const expected = /^Failed to load resource: the server responded with a status of (401|502)\b/;
  page.on('console', (m) => { if (m.type() === 'error' && !expected.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));

  const res = await page.goto(base + '/');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'] ?? '', /default-src 'self'/);

  // A wrong key is refused readably and not kept.
  await page.fill('#key', 'sk-wrong');
  await page.click('#connect');
  await page.locator('#key-error').waitFor();
  assert.match(await page.textContent('#key-error'), /401.*invalid_api_key/s);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);

  // The right key loads the models and lives in sessionStorage only.
  await page.fill('#key', key);
  await page.click('#connect');
  await page.waitForFunction(() => document.querySelector('#status').classList.contains('ok'));
  const storage = await page.evaluate(() => ({ session: Object.values(sessionStorage), local: localStorage.length }));
  assert.deepEqual(storage, { session: [key], local: 0 });
  assert.ok(!page.url().includes(key), 'the key leaked into the URL');
  // A reload in the same tab connects again from sessionStorage.
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#status').classList.contains('ok'));

  // Models are offered by kind, not by owner: an image endpoint of another
  // owner is an image model, and no chat model is one.
  const groups = (select) => page.$$eval(`${select} optgroup`, (gs) =>
    Object.fromEntries(gs.map((g) => [g.label, [...g.children].map((o) => o.value)])));
  const imageGroups = await groups('#image-model');
  assert.ok(imageGroups['Image models'].includes('flux-dev'), 'flux-dev is not an image model');
  assert.ok(imageGroups['Image models'].includes('partner-image'), 'an image endpoint of another owner is not an image model');
  assert.ok(!imageGroups['Image models'].includes('gpt-4o'), 'a chat model is offered as an image model');
  const chatGroups = await groups('#chat-model');
  assert.ok(chatGroups['Chat models'].includes('gpt-4o'), 'gpt-4o is not a chat model');
  assert.ok(!chatGroups['Chat models'].includes('partner-image'), 'an image model is offered as a chat model');

  // Generate an image and wait until the browser has decoded it.
  await page.selectOption('#image-model', 'flux-dev');
  await page.fill('#prompt', 'a lighthouse at dawn');
  await page.fill('#size', '1024x768');
  await page.fill('#seed', '42');
  await page.click('#generate');
  const run = page.locator('#image-results .run').first();
  await page.waitForFunction(() => {
    const img = document.querySelector('#image-results .run img');
    return img && img.complete && img.naturalWidth > 0;
  });
  assert.equal(await run.getAttribute('data-state'), 'done');
  assert.match(await run.locator('.meta').textContent(), /^flux-dev · 1024x768 · url · \d+\.\d\d s$/);
  const url = await run.locator('img').getAttribute('src');
  assert.match(url, /^https?:\/\//);

  // The same as inline base64.
  await page.selectOption('#format', 'b64_json');
  await page.click('#generate');
  await page.waitForFunction(() => {
    const img = document.querySelector('#image-results .run:first-child img');
    return img && img.src.startsWith('data:image/') && img.complete && img.naturalWidth > 0;
  });

  // A failing job shows the API's error, not a blank.
  await page.fill('#prompt', 'a lighthouse [fail]');
  await page.click('#generate');
  await page.waitForSelector('#image-results .run:first-child[data-state=error] .error');
  assert.match(await page.textContent('#image-results .run:first-child .error'), /50\d · \w+/);
  await page.screenshot({ path: variant('images'), fullPage: true });

  // Chat: stream an answer with reasoning, token by token.
  await page.click('#tab-chat');
  await page.selectOption('#chat-model', 'gpt-4o');
  await page.check('#reasoning');
  await page.click('.system summary');
  await page.fill('#system', 'You are terse.');
  await page.fill('#message', 'Hello from the browser test');
  // Record every text the answer shows on its way, to see it grow.
  await page.evaluate(() => {
    window.answerSteps = new Set();
    new MutationObserver(() => {
      const content = document.querySelector('#transcript .msg.assistant:last-child .content');
      if (content) window.answerSteps.add(content.textContent);
    }).observe(document.querySelector('#transcript'), { childList: true, subtree: true, characterData: true });
  });
  await page.press('#message', 'Enter');
  const reply = page.locator('#transcript .msg.assistant').last();
  await page.waitForSelector('#transcript .msg.assistant[data-state=done]');
  const answer = (await reply.locator('.content').textContent()).trim();
  assert.match(answer, /Hello from the browser test/);
  const steps = await page.evaluate(() => [...window.answerSteps].filter((t) => t.length > 0));
  assert.ok(steps.length >= 3, `the answer appeared in ${steps.length} steps, not token by token`);
  assert.ok(steps.every((t) => answer.startsWith(t.trim())), 'the answer did not grow by appending');
  assert.ok(await reply.locator('details.reasoning').isVisible(), 'reasoning block missing');
  assert.ok((await reply.locator('.thought').textContent()).length > 0, 'reasoning is empty');
  assert.equal(await page.textContent('#transcript .msg.user .content'), 'Hello from the browser test');

  // A second turn carries the first in the conversation.
  await page.fill('#message', 'And again');
  await page.click('#send');
  await page.waitForFunction(() => document.querySelectorAll('#transcript .msg.assistant[data-state=done]').length === 2);
  assert.match(await reply.locator('.content').textContent(), /And again/);

  // Audio: type text and hear it, then pick a recording and read its
  // transcript and translation, then record one.
  await page.click('#tab-audio');
  assert.ok((await groups('#speech-model'))['Speech models'].includes('tts-1'), 'tts-1 is not offered for speech');
  assert.ok((await groups('#stt-model'))['Transcription models'].includes('whisper-1'), 'whisper-1 is not offered for transcription');
  await page.selectOption('#speech-model', 'tts-1');
  await page.fill('#voice', 'alloy');
  await page.fill('#speech-input', 'Hello from the browser');
  await page.click('#speak');
  await page.waitForFunction(() => {
    const player = document.querySelector('#speech-results .run[data-state=done] audio');
    return player && player.readyState >= 1 && player.duration > 0;
  });
  assert.match(await page.textContent('#speech-results .run .meta'), /^tts-1 · voice af_alloy · audio\/wav · \d+ bytes · /);
  const recording = toneWav(8000);
  await page.setInputFiles('#recording', { name: 'hello.wav', mimeType: 'audio/wav', buffer: recording });
  await page.selectOption('#stt-model', 'whisper-1');
  await page.click('#transcribe');
  await page.waitForSelector('#transcript-results .run[data-state=done] pre');
  assert.match(await page.textContent('#transcript-results .run pre'), new RegExp(`^Heard ${recording.length} bytes\\. Digest [0-9a-f]{8}\\.$`));
  await page.selectOption('#stt-format', 'srt');
  await page.click('#translate');
  await page.waitForFunction(() => document.querySelectorAll('#transcript-results .run[data-state=done]').length === 2);
  assert.match(await page.textContent('#transcript-results .run:first-child pre'), /^1\n00:00:00,000 --> 00:00:00,\d{3}\nTranslated: Heard /);

  // Record from the (fake) microphone, stop, and read the transcript of
  // what it recorded.
  await page.selectOption('#stt-format', 'json');
  await page.click('#record');
  await page.waitForSelector('#record[aria-pressed=true]');
  await page.waitForTimeout(600); // let the microphone play a little
  assert.equal(await page.textContent('#record'), 'Stop');
  await page.click('#record');
  await page.waitForFunction(() => document.querySelectorAll('#transcript-results .run[data-state=done]').length === 3);
  assert.equal(await page.textContent('#record'), 'Record');
  assert.match(await page.textContent('#transcript-results .run:first-child .meta'), /^whisper-1 · json · recording\.webm · /);
  assert.match(await page.textContent('#transcript-results .run:first-child pre'), /^Heard \d+ bytes\. Digest [0-9a-f]{8}\.$/);

  // Responses: a streamed response shows its text and completes; an
  // embedding shows its dimensions.
  await page.click('#tab-responses');
  await page.selectOption('#responses-model', 'gpt-4o');
  await page.fill('#responses-input', 'Hello from the responses tab');
  await page.click('#responses-send');
  await page.waitForSelector('#responses-results .run[data-state=done]');
  assert.match(await page.textContent('#responses-results .run .content'), /Hello from the responses tab/);
  assert.match(await page.textContent('#responses-results .run .meta'), /^gpt-4o · completed · \d+ events · /);
  await page.selectOption('#embeddings-model', 'text-embedding-3-small');
  await page.fill('#embeddings-input', 'a lighthouse');
  await page.click('#embeddings-send');
  await page.waitForFunction(() => document.querySelectorAll('#responses-results .run[data-state=done]').length === 2);
  assert.match(await page.textContent('#responses-results .run:first-child .meta'), /^text-embedding-3-small · 8 dimensions · /);

  assert.deepEqual(problems, [], 'the page logged errors');
  await page.screenshot({ path: screenshot, fullPage: true });

  // At phone width nothing runs off the side.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.click('#tab-images');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await page.screenshot({ path: variant('phone'), fullPage: true });

  console.log(`playground: image loaded, chat streamed (${answer.length} chars), speech played, recordings transcribed; screenshot ${screenshot}`);
} finally {
  await close();
}

// Videos through falproxy with the official openai npm package: create,
// poll to completion, download the content, remix, list, delete and a
// typed 404. Run by a Go test against falproxy on the fal emulator:
//   FALPROXY_URL=... FALPROXY_KEY=... VIDEO_MODEL=... VIDEO_SHA256=... node videos.mjs
import OpenAI, { NotFoundError } from 'openai';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

const client = new OpenAI({ baseURL: process.env.FALPROXY_URL, apiKey: process.env.FALPROXY_KEY, maxRetries: 0 });
const model = process.env.VIDEO_MODEL;

// createAndPoll where the package has it; this version's videos resource
// has none, so poll retrieve as createAndPoll does.
async function createAndPoll(params) {
  if (typeof client.videos.createAndPoll === 'function') {
    return client.videos.createAndPoll(params, { pollIntervalMs: 20 });
  }
  let video = await client.videos.create(params);
  while (video.status === 'queued' || video.status === 'in_progress') {
    await new Promise((r) => setTimeout(r, 20));
    video = await client.videos.retrieve(video.id);
  }
  return video;
}

const video = await createAndPoll({ model, prompt: 'a fox in the snow', seconds: '8', size: '1280x720' });
assert.equal(video.object, 'video');
assert.equal(video.status, 'completed', JSON.stringify(video));
assert.equal(video.progress, 100);
assert.equal(video.seconds, '8');
assert.equal(video.size, '1280x720');
assert.ok(video.id.startsWith('video_'));

const content = await client.videos.downloadContent(video.id);
assert.equal(content.headers.get('content-type'), 'video/mp4');
const bytes = Buffer.from(await content.arrayBuffer());
assert.equal(createHash('sha256').update(bytes).digest('hex'), process.env.VIDEO_SHA256);

const remix = await client.videos.remix(video.id, { prompt: 'the fox at night' });
assert.equal(remix.remixed_from_video_id, video.id);

const page = await client.videos.list({ limit: 10 });
assert.deepEqual(page.data.map((v) => v.id), [remix.id, video.id]);

const deleted = await client.videos.delete(remix.id);
assert.deepEqual(deleted, { id: remix.id, object: 'video.deleted', deleted: true });

await assert.rejects(client.videos.retrieve(video.id + 'x'), NotFoundError);

console.log(JSON.stringify({ video: video.id.length, bytes: bytes.length, remix: remix.status }));

// Acceptance check of falproxy with the official openai npm package, the
// strictest parser of chat streams. Run by a Go test, which starts falproxy
// against the fal emulator and passes its address:
//   FALPROXY_URL=http://127.0.0.1:8000/v1 FALPROXY_KEY=... CHAT_MODEL=... IMAGE_MODEL=... node acceptance.mjs
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const client = new OpenAI({
  baseURL: process.env.FALPROXY_URL,
  apiKey: process.env.FALPROXY_KEY,
  maxRetries: 0,
});
const chatModel = process.env.CHAT_MODEL;
const imageModel = process.env.IMAGE_MODEL;
const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello to the acceptance test.' },
];
const results = {};

// Non-streaming completion.
const completion = await client.chat.completions.create({ model: chatModel, messages });
assert.equal(completion.object, 'chat.completion');
assert.equal(completion.choices[0].message.role, 'assistant');
assert.ok(completion.choices[0].message.content.length > 0, 'empty content');
assert.equal(completion.choices[0].finish_reason, 'stop');
results.completion = completion.choices[0].message.content;

// Streaming through the helper that checks role, finish_reason and ids.
const stream = client.chat.completions.stream({
  model: chatModel,
  messages,
  stream_options: { include_usage: true },
});
let deltas = 0;
stream.on('content', () => { deltas++; });
const final = await stream.finalChatCompletion();
assert.equal(final.choices[0].message.role, 'assistant');
assert.ok(final.choices[0].message.content.length > 0, 'empty streamed content');
assert.equal(final.choices[0].finish_reason, 'stop');
assert.ok(deltas > 1, `expected several deltas, got ${deltas}`);
assert.ok(final.usage && final.usage.total_tokens > 0, 'no usage');
results.stream = { content: final.choices[0].message.content, deltas, usage: final.usage };

// Images, as base64.
const img = await client.images.generate({ model: imageModel, prompt: 'a red square', size: '512x512', response_format: 'b64_json' });
assert.equal(img.data.length, 1);
const png = Buffer.from(img.data[0].b64_json, 'base64');
assert.equal(png.subarray(1, 4).toString(), 'PNG');
results.image = { bytes: png.length };

// Errors arrive as typed API errors.
await assert.rejects(
  client.chat.completions.create({ model: 'no-such-model', messages }),
  (err) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found',
);
results.errors = 'ok';

console.log(JSON.stringify(results));

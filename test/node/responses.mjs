// The Responses API and embeddings through falproxy with the official
// openai npm package: a whole response, a streamed one through the
// package's stream helper (finalResponse), a function call round trip, and
// embeddings in the package's default encoding (base64, decoded by the
// package). Run by a Go test against falproxy on the fal emulator:
//   FALPROXY_URL=http://127.0.0.1:8000/v1 FALPROXY_KEY=... CHAT_MODEL=... EMBEDDING_MODEL=... node responses.mjs
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const client = new OpenAI({ baseURL: process.env.FALPROXY_URL, apiKey: process.env.FALPROXY_KEY, maxRetries: 0 });
const model = process.env.CHAT_MODEL;
const results = {};

const whole = await client.responses.create({ model, instructions: 'Be terse.', input: 'Say hello to the acceptance test.' });
assert.equal(whole.object, 'response');
assert.equal(whole.status, 'completed');
assert.ok(whole.output_text.length > 0, 'empty output_text');
results.create = whole.output_text;

const stream = client.responses.stream({ model, input: 'Stream a hello.' });
let deltas = '';
stream.on('response.output_text.delta', (ev) => { deltas += ev.delta; });
const streamed = await stream.finalResponse();
assert.equal(streamed.status, 'completed');
assert.equal(streamed.output_text, deltas, 'the final text differs from the joined deltas');
assert.ok(deltas.length > 0, 'no deltas');
results.stream = streamed.output_text;

const tools = [{
  type: 'function', name: 'get_weather', description: 'Current weather of a city.', strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
}];
const first = await client.responses.create({ model, tools, input: 'please call get_weather for Paris' });
const call = first.output.find((o) => o.type === 'function_call');
assert.ok(call, 'no function call');
assert.equal(call.name, 'get_weather');
assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
const second = await client.responses.create({
  model, tools, previous_response_id: first.id,
  input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny and 21C' }],
});
assert.match(second.output_text, /sunny and 21C/);
results.tools = second.output_text;

const embeddings = await client.embeddings.create({ model: process.env.EMBEDDING_MODEL, input: ['one text', 'another'], dimensions: 4 });
assert.equal(embeddings.data.length, 2);
assert.equal(embeddings.data[0].embedding.length, 4);
assert.ok(embeddings.data[0].embedding.every((x) => typeof x === 'number' && x >= -1 && x < 1));
results.embeddings = embeddings.data[0].embedding;

console.log(JSON.stringify(results));

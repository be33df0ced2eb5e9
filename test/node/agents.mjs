// One agent of the OpenAI Agents SDK with one function tool, run through
// falproxy's Responses API (the SDK's default). Run by a Go test against
// falproxy on the fal emulator, which sets OPENAI_BASE_URL and
// OPENAI_API_KEY for the SDK:
//   OPENAI_BASE_URL=http://127.0.0.1:8000/v1 OPENAI_API_KEY=... CHAT_MODEL=... node agents.mjs
import { Agent, run, tool, setTracingDisabled, setOpenAIAPI } from '@openai/agents';
import assert from 'node:assert/strict';

setTracingDisabled(true);
setOpenAIAPI('responses');

let calledWith;
const getWeather = tool({
  name: 'get_weather',
  description: 'Current weather of a city.',
  strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  execute: async ({ city }) => {
    calledWith = city;
    return `sunny and 21C in ${city}`;
  },
});
const agent = new Agent({
  name: 'Weather',
  instructions: 'Answer with the weather tool.',
  model: process.env.CHAT_MODEL,
  tools: [getWeather],
});
const result = await run(agent, 'please call get_weather for Paris');
assert.equal(calledWith, 'Paris', 'the tool was not called with the city');
assert.match(result.finalOutput, /sunny and 21C in Paris/);
console.log(JSON.stringify({ finalOutput: result.finalOutput }));

// Audio check of falproxy with the official openai npm package: speech,
// transcriptions in every response_format, translation. Run by a Go test,
// which starts falproxy against the fal emulator and passes:
//   FALPROXY_URL, FALPROXY_KEY, SPEECH_MODEL, STT_MODEL, WORDS_MODEL,
//   WAV_FILE (a recording) and HEARD (the emulator's transcript of it).
import OpenAI, { toFile } from 'openai';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const client = new OpenAI({ baseURL: process.env.FALPROXY_URL, apiKey: process.env.FALPROXY_KEY, maxRetries: 0 });
const wav = await readFile(process.env.WAV_FILE);
const heard = process.env.HEARD;
const results = {};
const file = () => toFile(wav, 'recording.wav', { type: 'audio/wav' });

// Speech: raw bytes, labelled by what they are (the emulator speaks WAV).
const speech = await client.audio.speech.create({
  model: process.env.SPEECH_MODEL, input: 'Hello from the npm package', voice: 'nova', speed: 1.25, response_format: 'wav',
});
assert.equal(speech.headers.get('content-type'), 'audio/wav');
assert.equal(speech.headers.get('x-falproxy-voice'), 'af_nova');
const audio = Buffer.from(await speech.arrayBuffer());
assert.equal(audio.subarray(0, 4).toString(), 'RIFF');
results.speech = { bytes: audio.length };

// Transcriptions in every response_format.
const json = await client.audio.transcriptions.create({ file: await file(), model: process.env.STT_MODEL });
assert.equal(json.text, heard);
const text = await client.audio.transcriptions.create({ file: await file(), model: process.env.STT_MODEL, response_format: 'text' });
assert.equal(text, heard + '\n');
const srt = await client.audio.transcriptions.create({ file: await file(), model: process.env.STT_MODEL, response_format: 'srt' });
assert.match(srt, /^1\n00:00:00,000 --> 00:00:\d\d,\d{3}\nHeard \d+ bytes\.\n\n2\n/);
const vtt = await client.audio.transcriptions.create({ file: await file(), model: process.env.STT_MODEL, response_format: 'vtt' });
assert.match(vtt, /^WEBVTT\n\n00:00:00\.000 --> 00:00:\d\d\.\d{3}\nHeard /);
const verbose = await client.audio.transcriptions.create({
  file: await file(), model: process.env.WORDS_MODEL, response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'],
});
assert.equal(verbose.text, heard);
assert.equal(verbose.segments.length, 2);
assert.equal(verbose.segments[1].id, 1);
assert.equal(verbose.words.length, 5);
assert.ok(verbose.duration > 0 && verbose.words[4].end === verbose.duration);
results.transcriptions = { json: json.text, segments: verbose.segments.length, words: verbose.words.length };

// Translation.
const translation = await client.audio.translations.create({ file: await file(), model: process.env.STT_MODEL });
assert.equal(translation.text, 'Translated: ' + heard);

// A voice the model lacks is a typed 400 naming the field.
await assert.rejects(
  client.audio.speech.create({ model: process.env.SPEECH_MODEL, input: 'x', voice: 'Rachel' }),
  (err) => err instanceof OpenAI.BadRequestError && err.param === 'voice',
);

console.log(JSON.stringify(results));

// falproxy playground: tries this proxy's OpenAI API from the browser.
// The access key lives in sessionStorage (gone when the tab closes) and is
// sent only in the Authorization header. Text from the API is put on the
// page with textContent, never parsed as HTML.

import { initVideo } from './video.js';
import { initAudio } from './audio.js';
import { initResponses } from './responses.js';

const KEY_STORE = 'falproxy.key';
const MIME = { png: 'image/png', jpeg: 'image/jpeg', jpg: 'image/jpeg', webp: 'image/webp' };
export const $ = (id) => document.getElementById(id);

let accessKey = '';
let chatAbort = null;
let conversation = []; // the chat so far; Clear starts a new array

/** An error answer of the API, in OpenAI's {"error":{...}} shape. */
export class APIError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    Object.assign(this, { status, type: body.type, code: body.code, param: body.param });
  }
}

/** el builds an element with a class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** request calls the API and returns the response, throwing APIError on a non-2xx answer. */
export async function request(path, { key = accessKey, body, signal } = {}) {
  const init = { headers: { Authorization: `Bearer ${key}` }, signal };
  if (body instanceof FormData) {
    init.method = 'POST';
    init.body = body; // multipart: fetch sets the Content-Type with its boundary
  } else if (body) {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.ok) return res;
  const text = await res.text();
  let parsed = null;
  try { parsed = JSON.parse(text); } catch { /* not JSON: shown as text below */ }
  throw new APIError(res.status, parsed?.error ?? { message: text.slice(0, 500) || res.statusText });
}

/** errorBox renders any failure readably: status, type, code and param, then the message. */
export function errorBox(err, box = el('div', 'error')) {
  box.replaceChildren();
  box.setAttribute('role', 'alert');
  box.hidden = false;
  let title = 'Error';
  if (err instanceof APIError) {
    title = [err.status || 'stream', err.type, err.code, err.param && `param ${err.param}`].filter(Boolean).join(' · ');
  } else if (err.name === 'TypeError') {
    title = 'Network error';
  }
  box.append(el('strong', '', title), el('span', '', err.message));
  return box;
}

export const seconds = (start) => `${((performance.now() - start) / 1000).toFixed(2)} s`;

function setStatus(text, ok = false) {
  $('status').textContent = text;
  $('status').classList.toggle('ok', ok);
}

function enable(on) {
  for (const fs of document.querySelectorAll('main fieldset')) fs.disabled = !on;
}

/** fillSelect lists the models in groups, skipping empty ones. */
function fillSelect(select, groups) {
  select.replaceChildren();
  for (const [label, models] of groups) {
    if (!models.length) continue;
    const group = el('optgroup');
    group.label = label;
    for (const m of models) group.append(new Option(m.id, m.id));
    select.append(group);
  }
}

/** showModels offers each model where its kind (fal.kind) belongs first, the others after it. */
function showModels(models) {
  const ofKind = (kind) => models.filter((m) => m.fal?.kind === kind);
  const notOfKind = (kind) => models.filter((m) => m.fal?.kind !== kind);
  fillSelect($('image-model'), [['Image models', ofKind('image')], ['Other models', notOfKind('image')]]);
  fillSelect($('chat-model'), [['Chat models', ofKind('chat')], ['Other models', notOfKind('chat')]]);
  fillSelect($('video-model'), [['Video models', ofKind('video')]]);
  document.dispatchEvent(new CustomEvent('falproxy:models', { detail: { models, fillSelect } }));
}

async function connect(key) {
  $('key-error').hidden = true;
  setStatus('Connecting…');
  try {
    const res = await request('v1/models', { key });
    const models = (await res.json()).data ?? [];
    accessKey = key;
    sessionStorage.setItem(KEY_STORE, key);
    showModels(models);
    enable(true);
    setStatus(`Connected · ${models.length} models`, true);
  } catch (err) {
    enable(false);
    setStatus('Not connected');
    errorBox(err, $('key-error'));
  }
}

function forget() {
  accessKey = '';
  sessionStorage.removeItem(KEY_STORE);
  $('key').value = '';
  enable(false);
  setStatus('Not connected');
  $('key').focus();
}

/** imageSource turns one entry of an images response into an <img> src. */
function imageSource(item, format) {
  if (item.url) return item.url;
  return `data:${MIME[format] ?? 'image/png'};base64,${item.b64_json}`;
}

/** startRun adds a result block, running, to the top of results; the
 * prompt, if any, under its meta line. */
export function startRun(results, metaText, prompt) {
  const run = el('article', 'run');
  const meta = el('p', 'meta', metaText);
  run.append(meta);
  if (prompt !== undefined) run.append(el('p', 'prompt', prompt));
  run.dataset.state = 'running';
  results.prepend(run);
  return { run, meta };
}

/** failRun shows why a run failed. */
export function failRun(run, meta, model, start, err) {
  meta.textContent = `${model} · failed after ${seconds(start)}`;
  run.append(errorBox(err));
  run.dataset.state = 'error';
}

async function generate(event) {
  event.preventDefault();
  const body = {
    model: $('image-model').value,
    prompt: $('prompt').value.trim(),
    n: Number($('n').value) || 1,
    response_format: $('format').value,
  };
  const size = $('size').value.trim();
  if (size) body.size = size;
  if ($('seed').value !== '') body.seed = Number($('seed').value);

  const { run, meta } = startRun($('image-results'), `${body.model} · ${size || 'default size'} · ${body.n}× · generating…`, body.prompt);
  $('generate').disabled = true;
  const start = performance.now();
  try {
    const out = await (await request('v1/images/generations', { body })).json();
    meta.textContent = `${body.model} · ${out.size || size || 'default size'} · ${body.response_format} · ${seconds(start)}`;
    const grid = el('div', 'images');
    for (const item of out.data ?? []) {
      const img = el('img');
      img.alt = item.revised_prompt || body.prompt;
      img.decoding = 'async';
      img.src = imageSource(item, out.output_format);
      img.addEventListener('error', () => img.replaceWith(el('p', 'error', 'The image could not be loaded.')));
      if (item.url) { // a data: URL cannot be opened in a tab, a CDN one can
        const link = el('a');
        link.href = item.url;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
        link.append(img);
        grid.append(link);
      } else {
        grid.append(img);
      }
    }
    run.append(grid);
    run.dataset.state = 'done';
  } catch (err) {
    failRun(run, meta, body.model, start, err);
  } finally {
    $('generate').disabled = false;
  }
}

/** sseEvents yields the JSON data of each server-sent event until [DONE]
 * (or, for a stream without one such as the Responses API's, its end). */
export async function* sseEvents(stream, { untilDone = true } = {}) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const separator = /\r\n\r\n|\n\n|\r\r/;
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done && !untilDone) return;
    if (done) throw new Error('The stream ended before [DONE].');
    buffer += value;
    for (let m = separator.exec(buffer); m; m = separator.exec(buffer)) {
      const block = buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
      const data = block.split(/\r\n|\n|\r/).filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (!data) continue; // a keep-alive comment
      if (data === '[DONE]') return;
      yield JSON.parse(data);
    }
  }
}

/** bubble adds a message to the transcript and returns its parts. An
 * assistant's has a collapsible reasoning block, hidden until reasoning arrives. */
function bubble(role, text = '') {
  const node = el('div', `msg ${role}`);
  const who = el('p', 'who', role === 'user' ? 'You' : 'Assistant');
  const reasoning = el('details', 'reasoning');
  const thought = el('div', 'thought');
  reasoning.append(el('summary', '', 'Reasoning'), thought);
  reasoning.hidden = true;
  const content = el('div', 'content', text);
  node.append(...(role === 'user' ? [who, content] : [who, reasoning, content]));
  $('transcript').append(node);
  node.scrollIntoView({ block: 'end' });
  return { node, who, reasoning, thought, content };
}

async function send(event) {
  event.preventDefault();
  const text = $('message').value.trim();
  if (!text || chatAbort) return;
  $('message').value = '';
  bubble('user', text);
  const convo = conversation;
  convo.push({ role: 'user', content: text });
  const system = $('system').value.trim();
  const model = $('chat-model').value;
  const body = { model, stream: true, messages: system ? [{ role: 'system', content: system }, ...convo] : [...convo] };
  if ($('reasoning').checked) body.reasoning = true;

  const reply = bubble('assistant');
  reply.node.dataset.state = 'streaming';
  chatAbort = new AbortController();
  $('send').disabled = true;
  $('stop').disabled = false;
  const start = performance.now();
  let answer = '';
  try {
    const res = await request('v1/chat/completions', { body, signal: chatAbort.signal });
    for await (const chunk of sseEvents(res.body)) {
      if (chunk.error) throw new APIError(0, chunk.error);
      const delta = chunk.choices?.[0]?.delta ?? {};
      if (delta.reasoning_content) {
        reply.reasoning.hidden = false;
        reply.thought.textContent += delta.reasoning_content;
      }
      if (delta.content) {
        answer += delta.content;
        reply.content.textContent = answer;
      }
    }
    reply.node.dataset.state = 'done';
  } catch (err) {
    const stopped = err.name === 'AbortError';
    reply.node.dataset.state = stopped ? 'stopped' : 'error';
    if (!stopped) reply.node.append(errorBox(err));
  } finally {
    if (answer) convo.push({ role: 'assistant', content: answer });
    else convo.pop(); // nothing came back: the turn is not part of the conversation
    reply.who.textContent = `${model} · ${seconds(start)}${reply.node.dataset.state === 'stopped' ? ' · stopped' : ''}`;
    chatAbort = null;
    $('send').disabled = false;
    $('stop').disabled = true;
    $('message').focus();
  }
}

function selectTab(tab) {
  for (const t of document.querySelectorAll('[role=tab]')) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute('aria-controls')).hidden = !on;
  }
  tab.focus();
}

function init() {
  $('key-form').addEventListener('submit', (e) => { e.preventDefault(); connect($('key').value.trim()); });
  $('forget').addEventListener('click', forget);
  $('image-form').addEventListener('submit', generate);
  $('chat-form').addEventListener('submit', send);
  initVideo();
  initAudio();
  $('stop').addEventListener('click', () => chatAbort?.abort());
  $('clear').addEventListener('click', () => { chatAbort?.abort(); conversation = []; $('transcript').replaceChildren(); });
  initResponses();
  $('message').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); $('chat-form').requestSubmit(); }
  });
  const tabs = [...document.querySelectorAll('[role=tab]')];
  $('tabs').addEventListener('click', (e) => { if (e.target.matches('[role=tab]')) selectTab(e.target); });
  $('tabs').addEventListener('keydown', (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (step) selectTab(tabs[(tabs.indexOf(document.activeElement) + step + tabs.length) % tabs.length]);
  });
  const saved = sessionStorage.getItem(KEY_STORE);
  if (saved) {
    $('key').value = saved;
    connect(saved);
  }
}

init();

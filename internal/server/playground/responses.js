// falproxy playground, Responses tab: a streamed POST /v1/responses shown
// as its events arrive, and POST /v1/embeddings. It uses the page's own
// helpers: app.js imports this module and calls initResponses from its
// init, after which the imported helpers are defined.
import { $, el, request, errorBox, fillSelect, sseEvents, seconds, APIError } from './app.js';

/** run adds a result to the tab and returns its parts. */
function run(title) {
  const node = el('article', 'run');
  const meta = el('p', 'meta', title);
  const output = el('div', 'content');
  node.append(meta, output);
  node.dataset.state = 'running';
  $('responses-results').prepend(node);
  return { node, meta, output };
}

async function createResponse(event) {
  event.preventDefault();
  const body = { model: $('responses-model').value, input: $('responses-input').value.trim(), stream: true };
  const instructions = $('responses-instructions').value.trim();
  if (instructions) body.instructions = instructions;
  const r = run(`${body.model} · streaming…`);
  $('responses-send').disabled = true;
  const start = performance.now();
  let events = 0;
  try {
    const res = await request('v1/responses', { body });
    for await (const ev of sseEvents(res.body, { untilDone: false })) {
      events++;
      if (ev.type === 'response.output_text.delta') r.output.textContent += ev.delta;
      if (ev.type === 'response.failed') throw new APIError(0, { message: ev.response?.error?.message ?? 'The response failed.', code: ev.response?.error?.code });
      if (ev.type === 'response.completed' || ev.type === 'response.incomplete') {
        r.meta.textContent = `${body.model} · ${ev.response.status} · ${events} events · ${seconds(start)} · ${ev.response.id}`;
        r.node.dataset.state = 'done';
      }
    }
    if (r.node.dataset.state !== 'done') throw new Error('The stream ended before the response completed.');
  } catch (err) {
    r.meta.textContent = `${body.model} · failed after ${seconds(start)}`;
    r.node.append(errorBox(err));
    r.node.dataset.state = 'error';
  } finally {
    $('responses-send').disabled = false;
  }
}

async function embed(event) {
  event.preventDefault();
  const body = { model: $('embeddings-model').value, input: $('embeddings-input').value.trim() };
  const r = run(`${body.model} · embedding…`);
  const start = performance.now();
  try {
    const out = await (await request('v1/embeddings', { body })).json();
    const vector = out.data?.[0]?.embedding ?? [];
    r.meta.textContent = `${body.model} · ${vector.length} dimensions · ${out.usage?.total_tokens ?? 0} tokens · ${seconds(start)}`;
    r.output.textContent = `[${vector.slice(0, 8).map((x) => x.toFixed(4)).join(', ')}${vector.length > 8 ? ', …' : ''}]`;
    r.node.dataset.state = 'done';
  } catch (err) {
    r.meta.textContent = `${body.model} · failed after ${seconds(start)}`;
    r.node.append(errorBox(err));
    r.node.dataset.state = 'error';
  }
}

/** initResponses wires the tab's forms and fills its model lists each time the page connects. */
export function initResponses() {
  document.addEventListener('falproxy:models', ({ detail: { ofKind, notOfKind } }) => {
    fillSelect($('responses-model'), [['Chat models', ofKind('chat')], ['Other models', notOfKind('chat')]]);
    fillSelect($('embeddings-model'), [['Embedding models', ofKind('embedding')], ['Other models', notOfKind('embedding')]]);
  });
  $('responses-form').addEventListener('submit', createResponse);
  $('embeddings-form').addEventListener('submit', embed);
}

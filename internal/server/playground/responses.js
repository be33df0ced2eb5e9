// falproxy playground, Responses tab: a streamed POST /v1/responses shown
// as its events arrive, and POST /v1/embeddings. app.js and this module
// import each other: nothing here runs before initResponses, when app.js
// has been evaluated.
import { $, el, request, seconds, sseEvents, startRun, failRun, APIError } from './app.js';

/** output adds the block a run's text goes into. */
function output(run) {
  const box = el('div', 'content');
  run.append(box);
  return box;
}

async function createResponse(event) {
  event.preventDefault();
  const body = { model: $('responses-model').value, input: $('responses-input').value.trim(), stream: true };
  const instructions = $('responses-instructions').value.trim();
  if (instructions) body.instructions = instructions;
  const { run, meta } = startRun($('responses-results'), `${body.model} · streaming…`, body.input);
  const text = output(run);
  $('responses-send').disabled = true;
  const start = performance.now();
  let events = 0;
  try {
    const res = await request('v1/responses', { body });
    for await (const ev of sseEvents(res.body, { untilDone: false })) {
      events++;
      if (ev.type === 'response.output_text.delta') text.textContent += ev.delta;
      if (ev.type === 'response.failed') throw new APIError(0, { message: ev.response?.error?.message ?? 'The response failed.', code: ev.response?.error?.code });
      if (ev.type === 'response.completed' || ev.type === 'response.incomplete') {
        meta.textContent = `${body.model} · ${ev.response.status} · ${events} events · ${seconds(start)} · ${ev.response.id}`;
        run.dataset.state = 'done';
      }
    }
    if (run.dataset.state !== 'done') throw new Error('The stream ended before the response completed.');
  } catch (err) {
    failRun(run, meta, body.model, start, err);
  } finally {
    $('responses-send').disabled = false;
  }
}

async function embed(event) {
  event.preventDefault();
  const body = { model: $('embeddings-model').value, input: $('embeddings-input').value.trim() };
  const { run, meta } = startRun($('responses-results'), `${body.model} · embedding…`, body.input);
  const start = performance.now();
  try {
    const out = await (await request('v1/embeddings', { body })).json();
    const vector = out.data?.[0]?.embedding ?? [];
    meta.textContent = `${body.model} · ${vector.length} dimensions · ${out.usage?.total_tokens ?? 0} tokens · ${seconds(start)}`;
    output(run).textContent = `[${vector.slice(0, 8).map((x) => x.toFixed(4)).join(', ')}${vector.length > 8 ? ', …' : ''}]`;
    run.dataset.state = 'done';
  } catch (err) {
    failRun(run, meta, body.model, start, err);
  }
}

/** initResponses wires the tab's forms and fills its model lists each time the page connects. */
export function initResponses() {
  document.addEventListener('falproxy:models', ({ detail: { models, fillSelect } }) => {
    const of = (kind) => models.filter((m) => m.fal?.kind === kind);
    const notOf = (kind) => models.filter((m) => m.fal?.kind !== kind);
    fillSelect($('responses-model'), [['Chat models', of('chat')], ['Other models', notOf('chat')]]);
    fillSelect($('embeddings-model'), [['Embedding models', of('embedding')], ['Other models', notOf('embedding')]]);
  });
  $('responses-form').addEventListener('submit', createResponse);
  $('embeddings-form').addEventListener('submit', embed);
}

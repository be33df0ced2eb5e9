// falproxy playground, Audio tab: type text and hear it (POST
// /v1/audio/speech), pick a recording or record one from the microphone,
// and read its transcript or English translation (POST
// /v1/audio/transcriptions and /translations).
import { $, el, request, errorBox, seconds, startRun, failRun } from './app.js';

/** initAudio wires the Audio tab. Its selects offer the speech and
 * transcription models; an alias whose schema was not fetched yet
 * ("audio") fits both. */
export function initAudio() {
  document.addEventListener('falproxy:models', ({ detail: { models, fillSelect } }) => {
    const audio = models.filter((m) => ['speech', 'transcription', 'audio'].includes(m.fal?.kind));
    const of = (kind) => audio.filter((m) => m.fal.kind === kind || m.fal.kind === 'audio');
    fillSelect($('speech-model'), [['Speech models', of('speech')]]);
    fillSelect($('stt-model'), [['Transcription models', of('transcription')]]);
    loadVoices();
  });
  $('speech-form').addEventListener('submit', speak);
  $('speech-model').addEventListener('change', loadVoices);
  $('transcribe-form').addEventListener('submit', transcribe);
  $('record').addEventListener('click', toggleRecording);
}

/** loadVoices lists the chosen speech model's voices (and OpenAI's names). */
async function loadVoices() {
  const model = $('speech-model').value;
  if (!model) return;
  try {
    const { voices } = await (await request(`v1/audio/voices?model=${encodeURIComponent(model)}`)).json();
    $('voices').replaceChildren(...voices.map((v) => new Option(v.name, v.id)));
  } catch { /* the voice field still takes any name */ }
}

async function speak(event) {
  event.preventDefault();
  const body = { model: $('speech-model').value, input: $('speech-input').value.trim(), voice: $('voice').value.trim() || 'alloy' };
  const { run: entry, meta } = startRun($('speech-results'), `${body.model} · ${body.voice} · speaking…`, body.input);
  $('speak').disabled = true;
  const start = performance.now();
  try {
    const res = await request('v1/audio/speech', { body });
    const blob = await res.blob();
    const player = el('audio');
    player.controls = true;
    player.src = URL.createObjectURL(blob);
    const voice = res.headers.get('X-Falproxy-Voice') || body.voice;
    meta.textContent = `${body.model} · voice ${voice} · ${blob.type} · ${blob.size} bytes · ${seconds(start)}`;
    entry.append(player);
    entry.dataset.state = 'done';
  } catch (err) {
    failRun(entry, meta, body.model, start, err);
  } finally {
    $('speak').disabled = false;
  }
}

async function transcribe(event) {
  event.preventDefault();
  await sendRecording($('recording').files[0], event.submitter?.id === 'translate');
}

/** sendRecording transcribes or translates file and shows the answer. */
async function sendRecording(file, translate) {
  const form = new FormData();
  form.append('file', file);
  form.append('model', $('stt-model').value);
  form.append('response_format', $('stt-format').value);
  const { run: entry, meta } = startRun($('transcript-results'), `${$('stt-model').value} · ${file.name} · ${translate ? 'translating' : 'transcribing'}…`);
  const start = performance.now();
  try {
    const res = await request(`v1/audio/${translate ? 'translations' : 'transcriptions'}`, { body: form });
    const text = res.headers.get('Content-Type').startsWith('application/json') && $('stt-format').value === 'json'
      ? (await res.json()).text : await res.text();
    meta.textContent = `${$('stt-model').value} · ${$('stt-format').value} · ${file.name} · ${seconds(start)}`;
    entry.append(el('pre', 'transcript-text', text));
    entry.dataset.state = 'done';
  } catch (err) {
    failRun(entry, meta, $('stt-model').value, start, err);
  }
}

/** recorder is the microphone recording under way, if any. */
let recorder = null;

/** toggleRecording starts recording from the microphone, or stops it and
 * transcribes what it heard. Browsers give the microphone only to pages
 * served over https or from localhost. */
async function toggleRecording() {
  if (recorder) {
    recorder.stop();
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    const { run: entry } = startRun($('transcript-results'), 'The microphone cannot be used (it needs https or localhost, and your permission).');
    entry.append(errorBox(err));
    entry.dataset.state = 'error';
    return;
  }
  const chunks = [];
  const rec = new MediaRecorder(stream);
  rec.addEventListener('dataavailable', (e) => { if (e.data.size > 0) chunks.push(e.data); });
  rec.addEventListener('stop', () => {
    for (const track of stream.getTracks()) track.stop();
    recorder = null;
    showRecording(false);
    const type = rec.mimeType || 'audio/webm';
    const ext = type.includes('ogg') ? 'ogg' : type.includes('mp4') ? 'm4a' : 'webm';
    sendRecording(new File(chunks, `recording.${ext}`, { type }), false);
  });
  rec.start();
  recorder = rec;
  showRecording(true);
}

/** showRecording makes the record button say what pressing it does. */
function showRecording(on) {
  $('record').textContent = on ? 'Stop' : 'Record';
  $('record').setAttribute('aria-pressed', String(on));
}

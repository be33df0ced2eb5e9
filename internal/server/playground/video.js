// The playground's video tab: POST /v1/videos, poll the Video until it
// has finished, then play its content in a <video>. The content needs the
// access key, which a <video src> cannot send, so it is fetched and played
// from a blob: URL. app.js and this module import each other: nothing here
// runs before initVideo, when app.js has been evaluated.
import { $, el, request, seconds, startRun, failRun } from './app.js';

const POLL_MS = 1000;

/** readImage turns the chosen file into a data: URL for input_reference. */
function readImage(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** poll asks for the Video until it has completed or failed, showing its progress. */
async function poll(video, meta, label) {
  while (video.status === 'queued' || video.status === 'in_progress') {
    meta.textContent = `${label} · ${video.status.replace('_', ' ')} · ${video.progress}%`;
    await new Promise((r) => setTimeout(r, POLL_MS));
    video = await (await request(`v1/videos/${encodeURIComponent(video.id)}`)).json();
  }
  return video;
}

async function makeVideo(event) {
  event.preventDefault();
  const body = { model: $('video-model').value, prompt: $('video-prompt').value.trim() };
  for (const [field, id] of [['seconds', 'video-seconds'], ['size', 'video-size']]) {
    const value = $(id).value.trim();
    if (value) body[field] = value;
  }
  const { run, meta } = startRun($('video-results'), `${body.model} · submitting…`, body.prompt);
  $('make-video').disabled = true;
  const start = performance.now();
  try {
    const image = $('video-image').files[0];
    if (image) body.input_reference = { image_url: await readImage(image) };
    let video = await (await request('v1/videos', { body })).json();
    const label = `${body.model} · ${video.seconds || '?'} s · ${video.size || 'default size'}`;
    video = await poll(video, meta, label);
    if (video.status !== 'completed') throw new Error(video.error?.message || `The video ${video.status}.`);
    const blob = await (await request(`v1/videos/${encodeURIComponent(video.id)}/content`)).blob();
    const player = el('video');
    Object.assign(player, { controls: true, muted: true, loop: true, autoplay: true, playsInline: true });
    player.src = URL.createObjectURL(blob);
    player.addEventListener('error', () => player.replaceWith(el('p', 'error', 'The video could not be played.')));
    run.append(player);
    meta.textContent = `${label} · ${seconds(start)}`;
    run.dataset.state = 'done';
  } catch (err) {
    failRun(run, meta, body.model, start, err);
  } finally {
    $('make-video').disabled = false;
  }
}

/** initVideo wires the tab; app.js calls it once the page is set up. */
export function initVideo() {
  $('video-form').addEventListener('submit', makeVideo);
}

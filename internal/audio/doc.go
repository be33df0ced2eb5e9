// Package audio translates OpenAI's audio API to fal's audio models and
// back, driven by each endpoint's schema (falschema.Audio): a speech
// request becomes a TTS input (text, voice, speed, format), a
// transcription or translation a speech-to-text input (audio URL, task,
// language, chunk level), and fal's timestamped chunks become OpenAI's
// json, text, srt, vtt and verbose_json answers. It does no I/O.
package audio

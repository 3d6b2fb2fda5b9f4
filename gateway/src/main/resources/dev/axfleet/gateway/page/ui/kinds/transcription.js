// Transcription: what a transcription model hears in an audio file, from OpenAI's /v1/audio/transcriptions.
import { el, call, errorText, modelPicker } from '../api.js';

export default function transcription(box, models) {
  const picker = modelPicker(models);
  const file = el('input', { type: 'file', accept: 'audio/*', 'aria-label': 'audio file' });
  const status = el('span', { class: 'dim' });
  const out = el('div', { class: 'output', 'data-output': 'transcription' });
  const send = el('button', { type: 'submit' }, 'Transcribe');
  const form = el('form', {}, el('h3', {}, 'Transcription'), el('div', { class: 'row' }, picker.select), file,
    el('div', { class: 'row' }, send, status), out);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (!file.files.length) { status.textContent = 'choose an audio file first'; return; }
    send.disabled = true;
    status.textContent = 'listening…';
    const started = performance.now();
    try {
      const body = new FormData();
      body.append('file', file.files[0]);
      body.append('model', picker.select.value);
      const res = await call('/v1/audio/transcriptions', { method: 'POST', body });
      const data = JSON.parse(await res.text());
      if (!res.ok) throw new Error(errorText(data) || res.status + ' ' + res.statusText);
      out.textContent = data.text;
      status.textContent = 'done in ' + ((performance.now() - started) / 1000).toFixed(1) + ' s';
    } catch (err) {
      status.textContent = 'error: ' + err.message;
    } finally {
      send.disabled = false;
    }
  });
  box.append(form);
  return { update: picker.update };
}

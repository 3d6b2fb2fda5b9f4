// Speech: text spoken by a speech model, from OpenAI's /v1/audio/speech (WAV: the one format that needs no ffmpeg).
import { el, call, errorText, modelPicker } from '../api.js';

export default function speech(box, models) {
  const picker = modelPicker(models);
  const text = el('textarea', { rows: 2, 'aria-label': 'text to speak' }, 'Hello, visitors. Welcome to the desert.');
  const status = el('span', { class: 'dim' });
  const send = el('button', { type: 'submit' }, 'Speak');
  const result = el('div', { 'data-output': 'speech' });
  const form = el('form', {}, el('h3', {}, 'Speech'), el('div', { class: 'row' }, picker.select), text,
    el('div', { class: 'row' }, send, status), result);
  let url = null;
  form.addEventListener('submit', async e => {
    e.preventDefault();
    send.disabled = true;
    status.textContent = 'speaking…';
    const started = performance.now();
    try {
      const res = await call('/v1/audio/speech', { method: 'POST',
        body: JSON.stringify({ model: picker.select.value, input: text.value, response_format: 'wav' }) });
      if (!res.ok) {
        const body = await res.text();
        let message = res.status + ' ' + res.statusText;
        try { message = errorText(JSON.parse(body)) || message; } catch { /* not JSON */ }
        throw new Error(message);
      }
      const blob = await res.blob();
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(blob);
      result.replaceChildren(el('audio', { controls: true, src: url, class: 'result' }));
      status.textContent = 'done in ' + ((performance.now() - started) / 1000).toFixed(1) + ' s · ' + Math.round(blob.size / 1024) + ' KiB';
    } catch (err) {
      status.textContent = 'error: ' + err.message;
    } finally {
      send.disabled = false;
    }
  });
  box.append(form);
  return { update: picker.update };
}

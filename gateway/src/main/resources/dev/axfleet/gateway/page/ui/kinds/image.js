// Images: one picture from /v1/images/generations (b64_json, the only format served).
import { el, postJson, modelPicker } from '../api.js';

export default function image(box, models) {
  const picker = modelPicker(models);
  const prompt = el('input', { type: 'text', 'aria-label': 'prompt', value: 'a red fox in the snow, photograph' });
  const size = el('select', { 'aria-label': 'size' }, ...['512x512', '480x480', '240x240'].map(s => el('option', { value: s }, s)));
  const status = el('span', { class: 'dim' });
  const send = el('button', { type: 'submit' }, 'Draw');
  const result = el('div', { 'data-output': 'image' });
  const form = el('form', {}, el('h3', {}, 'Image'), el('div', { class: 'row' }, picker.select, size), prompt,
    el('div', { class: 'row' }, send, status), result);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    send.disabled = true;
    status.textContent = 'drawing…';
    const started = performance.now();
    try {
      const data = await postJson('/v1/images/generations',
        { model: picker.select.value, prompt: prompt.value, size: size.value, response_format: 'b64_json' });
      const img = el('img', { class: 'result', alt: prompt.value, src: 'data:image/png;base64,' + data.data[0].b64_json });
      result.replaceChildren(img);
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

// Embeddings: two texts from /v1/embeddings, and how close they are (cosine similarity).
import { el, postJson, modelPicker } from '../api.js';

export default function embedding(box, models) {
  const picker = modelPicker(models);
  const a = el('input', { type: 'text', 'aria-label': 'first text', value: 'a red fox' });
  const b = el('input', { type: 'text', 'aria-label': 'second text', value: 'a grey wolf' });
  const status = el('span', { class: 'dim', 'data-output': 'embedding' });
  const send = el('button', { type: 'submit' }, 'Compare');
  const form = el('form', {}, el('h3', {}, 'Embeddings'), el('div', { class: 'row' }, picker.select), a, b,
    el('div', { class: 'row' }, send, status));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    send.disabled = true;
    status.textContent = 'asking…';
    try {
      const data = await postJson('/v1/embeddings', { model: picker.select.value, input: [a.value, b.value], encoding_format: 'float' });
      const [x, y] = data.data.map(d => d.embedding);
      let dot = 0, nx = 0, ny = 0;
      for (let i = 0; i < x.length; i++) { dot += x[i] * y[i]; nx += x[i] * x[i]; ny += y[i] * y[i]; }
      status.textContent = x.length + ' dimensions · cosine similarity ' + (dot / Math.sqrt(nx * ny)).toFixed(3);
    } catch (err) {
      status.textContent = 'error: ' + err.message;
    } finally {
      send.disabled = false;
    }
  });
  box.append(form);
  return { update: picker.update };
}

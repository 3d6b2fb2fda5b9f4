// Interrogation (CLIP): what the image model sees in a picture, from AUTOMATIC1111's /sdapi/v1/interrogate.
import { el, postJson } from '../api.js';

export default function interrogation(box) {
  const file = el('input', { type: 'file', accept: 'image/png,image/jpeg', 'aria-label': 'picture' });
  const status = el('span', { class: 'dim' });
  const out = el('div', { class: 'output', 'data-output': 'interrogation' });
  const send = el('button', { type: 'submit' }, 'Describe');
  const form = el('form', {}, el('h3', {}, 'Describe a picture'), file, el('div', { class: 'row' }, send, status), out);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (!file.files.length) { status.textContent = 'choose a picture first'; return; }
    send.disabled = true;
    status.textContent = 'looking…';
    try {
      const dataUrl = await new Promise((resolve, reject) => {
        const r = new FileReader();
        r.onload = () => resolve(r.result);
        r.onerror = () => reject(r.error);
        r.readAsDataURL(file.files[0]);
      });
      const data = await postJson('/sdapi/v1/interrogate', { image: String(dataUrl).replace(/^data:[^,]*,/, ''), model: 'clip' });
      out.textContent = data.caption;
      status.textContent = '';
    } catch (err) {
      status.textContent = 'error: ' + err.message;
    } finally {
      send.disabled = false;
    }
  });
  box.append(form);
  return null;
}

// Chat: a streamed answer from /v1/chat/completions (OpenAI's SSE: data lines, an {"error"} event on failure, [DONE]).
import { call, el, errorText, modelPicker } from '../api.js';

export default function chat(box, models) {
  const picker = modelPicker(models);
  const prompt = el('textarea', { 'aria-label': 'message', placeholder: 'Say something to the model' }, 'Tell me a short story about a fox.');
  const output = el('div', { class: 'output', 'aria-live': 'polite', 'data-output': 'chat' });
  const status = el('span', { class: 'dim' });
  const send = el('button', { type: 'submit' }, 'Send');
  const stop = el('button', { type: 'button', disabled: true }, 'Stop');
  let controller = null;

  stop.addEventListener('click', () => controller && controller.abort());
  const form = el('form', {}, el('h3', {}, 'Chat'), el('div', { class: 'row' }, picker.select), prompt,
    el('div', { class: 'row' }, send, stop, status), output);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    output.textContent = '';
    status.textContent = 'waiting for the card…';
    send.disabled = true;
    stop.disabled = false;
    controller = new AbortController();
    const started = performance.now();
    let tokens = 0;
    try {
      const res = await call('/v1/chat/completions', {
        method: 'POST', signal: controller.signal,
        body: JSON.stringify({ model: picker.select.value, stream: true, messages: [{ role: 'user', content: prompt.value }] }),
      });
      if (!res.ok) throw new Error(errorText(await res.json().catch(() => null)) || String(res.status));
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of event.split('\n')) {
            if (!line.startsWith('data:')) continue; // ": keep-alive" comments
            const data = line.slice(5).trim();
            if (data === '[DONE]') continue;
            const chunk = JSON.parse(data);
            if (chunk.error) throw new Error(errorText(chunk));
            const text = chunk.choices && chunk.choices[0] && chunk.choices[0].delta && chunk.choices[0].delta.content;
            if (text) {
              if (!tokens) status.textContent = 'streaming…';
              tokens++;
              output.append(text);
            }
          }
        }
      }
      status.textContent = 'done in ' + ((performance.now() - started) / 1000).toFixed(1) + ' s';
    } catch (err) {
      status.textContent = err.name === 'AbortError' ? 'stopped' : 'error: ' + err.message;
    } finally {
      send.disabled = false;
      stop.disabled = true;
      controller = null;
    }
  });
  box.append(form);
  return { update: picker.update };
}

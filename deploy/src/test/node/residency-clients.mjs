// The official ollama JavaScript client loading, unloading and listing models on axfleet:
//   node residency-clients.mjs HOST ps
//   node residency-clients.mjs HOST load MODEL [KEEP_ALIVE]      (generate with an empty prompt)
//   node residency-clients.mjs HOST unload MODEL                 (generate with an empty prompt and keep_alive 0)
//   node residency-clients.mjs HOST unload-chat MODEL            (chat without messages and keep_alive 0)
//   node residency-clients.mjs HOST chat MODEL [KEEP_ALIVE]
// Prints one JSON object; an error from the server is printed as {"status", "error"}. ResidencyTest checks it.
import { Ollama } from 'ollama';

const [host, action, model, keep] = process.argv.slice(2);
const ollama = new Ollama({ host });
const keepAlive = keep === undefined ? undefined : /^-?\d+(\.\d+)?$/.test(keep) ? Number(keep) : keep;

async function run() {
  switch (action) {
    case 'ps': {
      const ps = await ollama.ps();
      return {
        models: ps.models.map((m) => ({
          name: m.name,
          expires_at: new Date(m.expires_at).toISOString(),
          size_vram: m.size_vram,
          size: m.size,
          loading: m.loading === true,
        })),
      };
    }
    case 'load': {
      const r = await ollama.generate({ model, prompt: '', keep_alive: keepAlive, stream: false });
      return { done: r.done, done_reason: r.done_reason, load_duration: r.load_duration };
    }
    case 'unload': {
      const r = await ollama.generate({ model, prompt: '', keep_alive: 0, stream: false });
      return { done: r.done, done_reason: r.done_reason };
    }
    case 'unload-chat': {
      const r = await ollama.chat({ model, messages: [], keep_alive: 0, stream: false });
      return { done: r.done, done_reason: r.done_reason };
    }
    case 'chat': {
      const r = await ollama.chat({ model, messages: [{ role: 'user', content: 'Hello' }], keep_alive: keepAlive, stream: false });
      return { done: r.done, done_reason: r.done_reason, content: r.message.content };
    }
    default:
      throw new Error('unknown action ' + action);
  }
}

try {
  console.log(JSON.stringify(await run()));
} catch (e) {
  console.log(JSON.stringify({ status: e.status_code, error: e.error ?? String(e) }));
}

// The official ollama JavaScript client against axfleet: node ollama-client.mjs http://127.0.0.1:PORT MODEL
// Prints one JSON object with what each call returned; FleetSuite checks it.
import { Ollama } from 'ollama';

const [host, model] = process.argv.slice(2);
const ollama = new Ollama({ host });
const coyote = {
  model,
  think: false,
  keep_alive: -1,
  options: { temperature: 0.99, top_k: 85, top_p: 0.9, num_ctx: 1024, repeat_last_n: 64, repeat_penalty: 1.5, num_predict: 100, stop: ['#', '['] },
  messages: [
    { role: 'system', content: 'You are a talking coyote in a museum.' },
    { role: 'user', content: 'Who are you?' },
    { role: 'assistant', content: 'A coyote of the red rocks.' },
    { role: 'user', content: 'What do you hear tonight?' },
  ],
};
const chat = await ollama.chat({ ...coyote, stream: false });
let streamed = '';
let last;
for await (const part of await ollama.chat({ ...coyote, stream: true })) {
  streamed += part.message.content;
  last = part;
}
const generate = await ollama.generate({ model, prompt: 'Say hello', stream: false });
const list = await ollama.list();
let missing;
try {
  await ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] });
} catch (e) {
  missing = { status: e.status_code, error: e.error };
}
console.log(JSON.stringify({
  chat: { content: chat.message.content, done: chat.done, done_reason: chat.done_reason, eval_count: chat.eval_count, eval_duration: chat.eval_duration },
  streamed: { content: streamed, done: last.done, done_reason: last.done_reason },
  generate: { response: generate.response, done: generate.done },
  list: list.models.map((m) => m.name),
  missing,
}));

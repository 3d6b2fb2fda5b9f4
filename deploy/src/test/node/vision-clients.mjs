// The official openai and ollama JavaScript clients sending images: node vision-clients.mjs http://127.0.0.1:PORT VLM TEXT_MODEL IMAGE.png NOT_AN_IMAGE
// Prints one JSON object with what each call returned; VisionTest checks it.
import fs from 'node:fs';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { refusal } from './refusal.mjs';

const [base, vlm, textModel, imagePath, notImagePath] = process.argv.slice(2);
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-needed', maxRetries: 0 });
const ollama = new Ollama({ host: base });
const b64 = fs.readFileSync(imagePath).toString('base64');
const dataUrl = `data:image/png;base64,${b64}`;
const ask = (model, url, extra = {}) => openai.chat.completions.create({
  model, max_tokens: 40, ...extra,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url } }] }],
});

const described = await ask(vlm, dataUrl);
let streamed = '';
for await (const chunk of await ask(vlm, dataUrl, { stream: true })) {
  streamed += chunk.choices[0]?.delta?.content ?? '';
}
const chat = await ollama.chat({ model: vlm, stream: false, messages: [{ role: 'user', content: 'What is in this picture?', images: [b64] }] });
const gen = await ollama.generate({ model: vlm, prompt: 'What is in this picture?', images: [b64], stream: false });
const notImage = fs.readFileSync(notImagePath).toString('base64');
const out = {
  described: described.choices[0].message.content,
  streamed,
  ollamaChat: chat.message.content,
  ollamaGenerate: gen.response,
  textModel: await refusal(() => ask(textModel, dataUrl)),
  notAnImage: await refusal(() => ask(vlm, `data:image/png;base64,${notImage}`)),
  fifty: await refusal(() => openai.chat.completions.create({ model: vlm, max_tokens: 4, messages: [{ role: 'user',
    content: Array.from({ length: 50 }, () => ({ type: 'image_url', image_url: { url: dataUrl } })) }] })),
  huge: await refusal(() => ask(vlm, `data:image/png;base64,${'A'.repeat(40 * 1024 * 1024)}`)),
  localPath: await refusal(() => ask(vlm, '/etc/passwd')),
  fileUrl: await refusal(() => ask(vlm, 'file:///etc/passwd')),
  httpUrl: await refusal(() => ask(vlm, 'http://127.0.0.1:9/cat.png')),
  ollamaNotImage: await refusal(() => ollama.chat({ model: vlm, stream: false, messages: [{ role: 'user', content: 'hi', images: [notImage] }] })),
  ollamaTextModel: await refusal(() => ollama.generate({ model: textModel, prompt: 'hi', images: [b64], stream: false })),
  vlmCapabilities: (await ollama.show({ model: vlm })).capabilities,
  textCapabilities: (await ollama.show({ model: textModel })).capabilities,
  models: (await openai.models.list()).data.map((m) => m.id),
};
console.log(JSON.stringify(out));

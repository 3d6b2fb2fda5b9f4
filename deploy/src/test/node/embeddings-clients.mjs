// The official openai and ollama JavaScript clients asking for embeddings: node embeddings-clients.mjs http://127.0.0.1:PORT MODEL
// Prints one JSON object with what each call returned; EmbeddingsTest checks it.
import OpenAI from 'openai';
import { Ollama } from 'ollama';

const [base, model] = process.argv.slice(2);
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-needed', maxRetries: 0 });
const ollama = new Ollama({ host: base });
const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

// The npm client asks for base64 unless told otherwise, and hands back floats.
const byDefault = await openai.embeddings.create({ model, input: ['a red fox', 'a grey wolf'] });
const floats = await openai.embeddings.create({ model, input: 'a red fox', encoding_format: 'float' });
const short = await openai.embeddings.create({ model, input: 'a red fox', dimensions: 64 });
let refused;
try {
  await openai.embeddings.create({ model, input: '' });
} catch (e) {
  refused = { status: e.status, type: e.type ?? e.error?.type, param: e.param ?? e.error?.param };
}
let tooMany;
try {
  await openai.embeddings.create({ model, input: Array.from({ length: 10000 }, (_, i) => `text ${i}`) });
} catch (e) {
  tooMany = { status: e.status };
}
const embed = await ollama.embed({ model, input: ['a red fox', 'a grey wolf'] });
const old = await ollama.embeddings({ model, prompt: 'a red fox' });
const show = await ollama.show({ model });
const list = await openai.models.list();
console.log(JSON.stringify({
  byDefault: { count: byDefault.data.length, dims: byDefault.data[0].embedding.length, norm: norm(byDefault.data[0].embedding),
    first: byDefault.data[0].embedding.slice(0, 4), usage: byDefault.usage, model: byDefault.model },
  floats: { dims: floats.data[0].embedding.length, first: floats.data[0].embedding.slice(0, 4) },
  short: { dims: short.data[0].embedding.length, norm: norm(short.data[0].embedding) },
  refused,
  tooMany,
  embed: { count: embed.embeddings.length, dims: embed.embeddings[0].length, first: embed.embeddings[0].slice(0, 4),
    promptEvalCount: embed.prompt_eval_count },
  old: { dims: old.embedding.length, first: old.embedding.slice(0, 4) },
  capabilities: show.capabilities,
  models: list.data.map((m) => m.id),
}));

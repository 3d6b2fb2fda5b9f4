// The official openai and ollama JavaScript clients calling tools, asking for JSON and for legacy completions:
// node tools-clients.mjs http://127.0.0.1:PORT TOOL_MODEL NO_TOOL_MODEL
// Prints one JSON object with what each call returned; ToolsTest checks it.
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { refusal } from './refusal.mjs';

const [base, model, plainModel] = process.argv.slice(2);
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-needed', maxRetries: 0 });
const ollama = new Ollama({ host: base });
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
const question = { role: 'user', content: 'What is the weather in Oslo?' };

// A round trip: the call, the tool's answer, the final text.
const first = await openai.chat.completions.create({ model, messages: [question], tools });
const call = first.choices[0].message.tool_calls[0];
const second = await openai.chat.completions.create({ model, tools, messages: [question, first.choices[0].message,
  { role: 'tool', tool_call_id: call.id, content: '{"temperature":"-3C","condition":"snow"}' }] });
// Streamed: the call arrives as delta.tool_calls.
const streamedCalls = [];
let streamedFinish;
for await (const chunk of await openai.chat.completions.create({ model, messages: [question], tools, stream: true })) {
  for (const c of chunk.choices[0]?.delta?.tool_calls ?? []) streamedCalls.push(c);
  streamedFinish = chunk.choices[0]?.finish_reason ?? streamedFinish;
}
const schema = { type: 'object', properties: { name: { type: 'string' }, legs: { type: 'integer' } }, required: ['name', 'legs'],
  additionalProperties: false };
const structured = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Describe a coyote' }],
  response_format: { type: 'json_schema', json_schema: { name: 'animal', schema, strict: true } } });
let streamedJson = '';
for await (const chunk of await openai.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Describe a coyote' }],
  response_format: { type: 'json_schema', json_schema: { name: 'animal', schema } } })) {
  streamedJson += chunk.choices[0]?.delta?.content ?? '';
}
const jsonObject = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Describe a coyote' }],
  response_format: { type: 'json_object' } });
const completion = await openai.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8 });
let streamedCompletion = '';
for await (const chunk of await openai.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8, stream: true })) {
  streamedCompletion += chunk.choices[0]?.text ?? '';
}
const ollamaCall = await ollama.chat({ model, stream: false, messages: [question], tools });
const ollamaAnswer = await ollama.chat({ model, stream: false, tools, messages: [question, ollamaCall.message,
  { role: 'tool', content: 'sunny, 21C', tool_name: 'get_weather' }] });
const ollamaFormat = await ollama.chat({ model, stream: false, format: schema, messages: [{ role: 'user', content: 'Describe a coyote' }] });
const ollamaJson = await ollama.generate({ model, stream: false, format: 'json', prompt: 'Describe a coyote' });
console.log(JSON.stringify({
  first: { finish: first.choices[0].finish_reason, content: first.choices[0].message.content, call },
  second: { finish: second.choices[0].finish_reason, content: second.choices[0].message.content },
  streamed: { calls: streamedCalls, finish: streamedFinish },
  structured: structured.choices[0].message.content,
  streamedJson,
  jsonObject: jsonObject.choices[0].message.content,
  completion: { object: completion.object, text: completion.choices[0].text, finish: completion.choices[0].finish_reason },
  streamedCompletion,
  ollamaCall: ollamaCall.message.tool_calls,
  ollamaAnswer: ollamaAnswer.message.content,
  ollamaFormat: ollamaFormat.message.content,
  ollamaJson: ollamaJson.response,
  toolsCapabilities: (await ollama.show({ model })).capabilities,
  plainCapabilities: (await ollama.show({ model: plainModel })).capabilities,
  notASchema: await refusal(() => openai.chat.completions.create({ model, messages: [question],
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 5 } } } })),
  toolWithoutName: await refusal(() => openai.chat.completions.create({ model, messages: [question],
    tools: [{ type: 'function', function: { parameters: { type: 'object' } } }] })),
  toolMessageWithoutCall: await refusal(() => openai.chat.completions.create({ model, tools,
    messages: [question, { role: 'tool', tool_call_id: 'call_9_nothing', content: 'x' }] })),
  toolsToPlainModel: await refusal(() => openai.chat.completions.create({ model: plainModel, messages: [question], tools })),
  ollamaNotASchema: await refusal(() => ollama.chat({ model, stream: false, messages: [question], format: { type: 'objekt' } })),
  ollamaToolsToPlainModel: await refusal(() => ollama.chat({ model: plainModel, stream: false, messages: [question], tools })),
  severalPrompts: await refusal(() => openai.completions.create({ model, prompt: ['a', 'b'] })),
}));

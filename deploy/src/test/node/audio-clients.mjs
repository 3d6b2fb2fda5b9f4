// The official openai JavaScript client transcribing and speaking: node audio-clients.mjs BASE ASR_MODEL TTS_MODEL WAV MP3 WEBM OUT_DIR
// Prints one JSON object with what each call returned (speech is written to OUT_DIR/speech.FORMAT); SpeechTest checks it.
import OpenAI from 'openai';
import fs from 'fs';

const [base, asrModel, ttsModel, wav, mp3, webm, outDir] = process.argv.slice(2);
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-needed', maxRetries: 0 });
const refused = async (call) => {
  try {
    await call();
    return { status: 'answered' };
  } catch (e) {
    return { status: e.status, type: e.type ?? e.error?.type, param: e.param ?? e.error?.param ?? null, message: e.message };
  }
};

const transcripts = {};
for (const format of ['json', 'text', 'srt', 'vtt', 'verbose_json']) {
  transcripts[format] = await openai.audio.transcriptions.create({
    file: fs.createReadStream(wav), model: asrModel, response_format: format, language: 'en',
    ...(format === 'verbose_json' ? { timestamp_granularities: ['segment'] } : {}),
  });
}
const fromMp3 = await openai.audio.transcriptions.create({ file: fs.createReadStream(mp3), model: 'whisper-1' });
const fromWebm = await openai.audio.transcriptions.create({ file: fs.createReadStream(webm), model: asrModel });
const translation = await refused(() => openai.audio.translations.create({ file: fs.createReadStream(wav), model: asrModel }));
const prompt = await refused(() => openai.audio.transcriptions.create({ file: fs.createReadStream(wav), model: asrModel, prompt: 'coyotes' }));
const language = await refused(() => openai.audio.transcriptions.create({ file: fs.createReadStream(wav), model: asrModel, language: 'xx' }));
const words = await refused(() => openai.audio.transcriptions.create({
  file: fs.createReadStream(wav), model: asrModel, response_format: 'verbose_json', timestamp_granularities: ['word'] }));

const text = 'Hello visitors. Welcome to the den of the coyote, where the desert sings at night! Stay a while, and listen.';
const speech = {};
for (const format of ['mp3', 'wav', 'pcm', 'opus', 'aac', 'flac']) {
  const res = await openai.audio.speech.create({ model: ttsModel, input: text, voice: 'alloy', response_format: format });
  const bytes = Buffer.from(await res.arrayBuffer());
  fs.writeFileSync(`${outDir}/speech.${format}`, bytes);
  speech[format] = { bytes: bytes.length, type: res.headers.get('content-type'), emulated: res.headers.get('x-axfleet-emulated') };
}
const byDefault = Buffer.from(await (await openai.audio.speech.create({ model: 'tts-1', input: 'Hi.', voice: 'nova' })).arrayBuffer());

// Streamed as it is spoken: the first audio comes long before the last.
const started = Date.now();
const streamed = await openai.audio.speech.create({ model: ttsModel, input: text, voice: 'echo', response_format: 'pcm' });
const reader = streamed.body.getReader();
const arrivals = [];
let streamedBytes = 0;
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  arrivals.push(Date.now() - started);
  streamedBytes += value.length;
}
const sse = await (await openai.audio.speech.create({ model: ttsModel, input: text, voice: 'alloy', response_format: 'pcm',
  stream_format: 'sse' })).text();
const events = sse.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)));
const unknownVoice = await refused(() => openai.audio.speech.create({ model: ttsModel, input: 'Hi.', voice: 'darth-vader' }));
const tooLong = await refused(() => openai.audio.speech.create({ model: ttsModel, input: 'x'.repeat(100000), voice: 'alloy' }));
const voices = await openai.get('/audio/voices');

console.log(JSON.stringify({
  transcripts, fromMp3: fromMp3.text, fromWebm: fromWebm.text, translation, prompt, words, language,
  speech, byDefault: byDefault.length,
  stream: { chunks: arrivals.length, first: arrivals[0], last: arrivals[arrivals.length - 1], bytes: streamedBytes },
  sse: { deltas: events.filter((e) => e.type === 'speech.audio.delta').length,
    audioBytes: events.filter((e) => e.type === 'speech.audio.delta').reduce((n, e) => n + Buffer.from(e.audio, 'base64').length, 0),
    done: events.find((e) => e.type === 'speech.audio.done') ?? null },
  unknownVoice, tooLong, voices,
}));

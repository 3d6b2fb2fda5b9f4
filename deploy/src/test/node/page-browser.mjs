// The page at / in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core), against a running fleet:
//   node page-browser.mjs BASE SCREENSHOT_DIR API_KEY
// Prints one JSON object with what it saw; exits non-zero on any step that failed. Every wait is bounded.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';

const [base, shots, key] = process.argv.slice(2);
const STEP = 30_000;
mkdirSync(shots, { recursive: true });
const out = {};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // As root (CI) Chromium's sandbox cannot start; the pages are ours, on loopback.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
  timeout: STEP,
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP);
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  const streams = [];
  page.on('response', r => { if (r.url().endsWith('/v1/chat/completions')) streams.push(r.headers()['content-type']); });

  // 1. The key: asked for once, then kept.
  await page.goto(base + '/');
  await page.locator('#key').waitFor({ state: 'visible' });
  out.askedForKey = true;
  await page.fill('#key-input', key);
  await page.click('#key button[type=submit]');
  await page.locator('#models tbody tr').first().waitFor();
  out.keptKey = await page.evaluate(() => localStorage.getItem('axfleet.apiKey'));
  await page.reload();
  await page.locator('#models tbody tr').first().waitFor();
  out.askedAgainAfterReload = await page.locator('#key').isVisible();

  // 2. What runs: models, workers' phases, the emulated card's temperature and its chart.
  await page.waitForFunction(() => {
    const t = document.querySelector('[data-reading=temperature] b');
    return t && /°C/.test(t.textContent);
  });
  out.card = await page.locator('.card-view').first().getAttribute('data-card');
  out.temperature = await page.locator('[data-reading=temperature] b').first().textContent();
  out.emulatedBanner = await page.locator('#emulated').isVisible();
  out.models = await page.locator('#models tbody tr').evaluateAll(rows => rows.map(r => ({
    model: r.getAttribute('data-model'), phases: [...r.querySelectorAll('.badge')].map(b => b.textContent) })));
  await page.waitForFunction(() => document.querySelector('polyline[data-series=temp]'));
  out.chartPoints = await page.locator('polyline[data-series=temp]').first().evaluate(p => p.getAttribute('points').split(' ').length);

  // 3. The playground: a chat that streams (the answer grows in pieces), then an image.
  const chat = page.locator('[data-kind=chat]');
  await chat.locator('button[type=submit]').waitFor();
  await chat.locator('textarea').fill('Say hello to the visitors.');
  await page.evaluate(() => {
    const o = document.querySelector('[data-output=chat]');
    window.__pieces = 0;
    new MutationObserver(m => { window.__pieces += m.length; }).observe(o, { childList: true, characterData: true, subtree: true });
  });
  await chat.locator('button[type=submit]').click();
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-kind=chat] .row .dim');
    return s && /^(done|error)/.test(s.textContent);
  });
  out.chatStatus = await chat.locator('.row .dim').first().textContent();
  out.chatText = await chat.locator('[data-output=chat]').textContent();
  out.chatPieces = await page.evaluate(() => window.__pieces);
  out.chatContentType = streams[0] || null;

  const image = page.locator('[data-kind=image]');
  await image.locator('button[type=submit]').click();
  await image.locator('img.result').waitFor();
  await page.waitForFunction(() => { const i = document.querySelector('[data-kind=image] img.result'); return i && i.complete && i.naturalWidth > 0; });
  out.image = await image.locator('img.result').evaluate(i => ({ width: i.naturalWidth, height: i.naturalHeight }));

  // Speech, played in the page; then a WAV of speech given to the transcription panel as a visitor's file.
  const speech = page.locator('[data-kind=speech]');
  await speech.locator('button[type=submit]').click();
  await speech.locator('audio.result').waitFor();
  await page.waitForFunction(() => {
    const a = document.querySelector('[data-kind=speech] audio.result');
    return a && a.readyState >= 1 && a.duration > 0;
  });
  out.speechSeconds = await speech.locator('audio.result').evaluate(a => a.duration);
  // The same speech as a visitor's recording (asked here, outside the page: its CSP lets no script read the blob back).
  const spoken = await fetch(base + '/v1/audio/speech', { method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + key },
    body: JSON.stringify({ model: 'melotts-en-default', input: 'Hello, visitors.', response_format: 'wav' }) });
  const wav = Buffer.from(await spoken.arrayBuffer());
  const transcription = page.locator('[data-kind=transcription]');
  await transcription.locator('input[type=file]').setInputFiles({ name: 'visitor.wav', mimeType: 'audio/wav', buffer: wav });
  await transcription.locator('button[type=submit]').click();
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-kind=transcription] .row .dim');
    return s && /^(done|error)/.test(s.textContent);
  });
  out.transcriptionStatus = await transcription.locator('.row .dim').first().textContent();
  out.transcript = await transcription.locator('[data-output=transcription]').textContent();

  // 4. The jobs just run are listed with their outcome.
  await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length >= 2, null, { timeout: STEP });
  out.jobs = await page.locator('#jobs tbody tr').evaluateAll(rows => rows.map(r => [...r.cells].map(c => c.textContent)));
  await page.screenshot({ path: join(shots, 'page.png'), fullPage: true });

  // 5. On a phone: one column, nothing wider than the screen.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const p2 = await phone.newPage();
  p2.setDefaultTimeout(STEP);
  await p2.addInitScript(k => localStorage.setItem('axfleet.apiKey', k), key);
  await p2.goto(base + '/');
  await p2.locator('#models tbody tr').first().waitFor();
  await p2.waitForFunction(() => document.querySelector('[data-kind=chat] button'));
  out.phoneOverflow = await p2.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await p2.screenshot({ path: join(shots, 'page-phone.png'), fullPage: true });
  await phone.close();

  // 6. A sketch on another origin calling the gateway, served for real on loopback: from localhost (one of Ollama's
  // default origins) it may call, from 127.0.0.2 (loopback too, but not a default origin) the gateway refuses it.
  const sketchPage = '<!doctype html><title>sketch</title><p>a p5.js sketch</p>';
  const servers = [];
  const serve = host => new Promise(resolve => {
    const server = createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(sketchPage); });
    servers.push(server);
    server.listen(0, host, () => resolve(server.address().port));
  });
  const local = 'http://localhost:' + await serve('127.0.0.1');
  const elsewhere = 'http://127.0.0.2:' + await serve('127.0.0.2');
  const sketch = await browser.newContext();
  const p3 = await sketch.newPage();
  p3.setDefaultTimeout(STEP);
  out.sketchResponses = [];
  p3.on('response', r => {
    if (r.url().startsWith(base)) out.sketchResponses.push({ origin: r.request().headers().origin, method: r.request().method(), status: r.status() });
  });
  const callFrom = async origin => {
    await p3.goto(origin + '/');
    return p3.evaluate(async ([b, k]) => {
      try {
        const r = await fetch(b + '/v1/chat/completions', { method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + k },
          body: JSON.stringify({ model: 'qwen3-0.6b', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }) });
        return { status: r.status, answered: (await r.json()).choices[0].message.content.length > 0 };
      } catch (e) {
        return { failed: String(e) };
      }
    }, [base, key]);
  };
  out.fromLocalhost = await callFrom(local);
  out.fromElsewhere = await callFrom(elsewhere);
  await sketch.close();
  servers.forEach(s => s.close());
  out.pageErrors = errors.filter(e => !/401|the API key is needed/.test(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));

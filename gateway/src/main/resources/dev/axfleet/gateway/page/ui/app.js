// The page at /: polls /fleet (docs/page.md) every two seconds and draws it; the playground imports one panel per kind
// of work from ./kinds/<kind>.js, so a new kind adds a file here and nothing else.
import { call, el, keepKey, apiKey, onKeyRefused } from './api.js';

const POLL_MS = 2000;
const $ = id => document.getElementById(id);
let timer = null;
let waitingForKey = false;

// ---- the API key: asked for once, kept in this browser ----
onKeyRefused(hadKey => askForKey(hadKey));

function askForKey(refused) {
  waitingForKey = true;
  $('key').hidden = false;
  $('key-refused').hidden = !refused;
  $('key-input').focus();
}

$('key').addEventListener('submit', e => {
  e.preventDefault();
  keepKey($('key-input').value.trim());
  $('key-input').value = '';
  $('key').hidden = true;
  waitingForKey = false;
  poll();
});

$('forget').addEventListener('click', () => { keepKey(null); location.reload(); });

// ---- polling ----
async function poll() {
  clearTimeout(timer);
  try {
    const res = await call('/fleet');
    if (!res.ok) throw new Error('/fleet answered ' + res.status);
    const state = await res.json();
    $('problem').hidden = true;
    draw(state);
  } catch (e) {
    if (waitingForKey) return; // polling starts again once a key is given
    $('problem').textContent = 'The gateway does not answer: ' + e.message;
    $('problem').hidden = false;
  }
  timer = setTimeout(poll, POLL_MS);
}

function draw(s) {
  $('version').textContent = 'version ' + s.version;
  const broker = $('broker');
  broker.textContent = 'broker ' + s.broker;
  broker.className = 'badge ' + s.broker;
  $('emulated').hidden = !s.emulated;
  $('forget').hidden = !apiKey();
  drawCards(s.cards);
  drawModels(s.models);
  drawQueue(s);
  drawJobs(s.jobs);
  playground(s);
}

// ---- the card ----
function drawCards(cards) {
  const box = $('cards');
  if (!cards.length) return;
  box.replaceChildren(...cards.map(c => el('div', { class: 'card-view', 'data-card': c.card },
    el('div', { class: 'row' }, el('b', {}, c.card), badge(c.fresh ? c.state : 'stale'), c.emulated ? el('span', { class: 'badge' }, 'emulated') : null),
    c.needs_person ? el('p', { class: 'bad' }, c.needs_person) : null,
    c.detail ? el('p', { class: 'dim' }, c.detail) : null,
    el('div', { class: 'readings' },
      reading('temperature', c.temperature_c == null ? '–' : c.temperature_c.toFixed(1) + ' °C', 'temperature'),
      reading('CMM free', c.cmm_total_mib == null || c.cmm_used_mib == null ? '–'
        : (c.cmm_total_mib - c.cmm_used_mib) + ' of ' + c.cmm_total_mib + ' MiB', 'cmm'),
      reading('NPU', c.npu_percent == null ? '–' : c.npu_percent + ' %', 'npu'),
      reading('CPU', c.cpu_percent == null ? '–' : c.cpu_percent + ' %', 'cpu')),
    chart(c.history),
    el('div', { class: 'legend dim' }, el('span', { class: 'temp' }, '°C'), ' ', el('span', { class: 'cmm' }, 'CMM used %'), ' ',
      el('span', { class: 'npu' }, 'NPU %'), ' · last 10 minutes, 0–100'))));
}

function reading(label, value, name) {
  return el('div', { class: 'reading', 'data-reading': name }, el('div', { class: 'dim' }, label), el('b', {}, value));
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Temperature, CMM used and NPU load over the last ten minutes, all on one 0-100 scale. */
function chart(history) {
  const W = 600, H = 140, span = 10 * 60 * 1000;
  const now = history.length ? Math.max(Date.now(), history[history.length - 1].at) : Date.now();
  const s = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img',
    'aria-label': 'card temperature, CMM and NPU load, last 10 minutes' });
  for (const v of [0, 50, 100]) {
    const y = H - v / 100 * (H - 10) - 5;
    s.append(svg('line', { class: 'grid', x1: 0, x2: W, y1: y, y2: y }));
  }
  const series = [
    ['temp', p => p.temperature_c],
    ['cmm', p => p.cmm_used_mib == null || !p.cmm_total_mib ? null : 100 * p.cmm_used_mib / p.cmm_total_mib],
    ['npu', p => p.npu_percent],
  ];
  for (const [name, value] of series) {
    const points = history.filter(p => value(p) != null).map(p => {
      const x = W - (now - p.at) / span * W;
      const y = H - Math.min(100, Math.max(0, value(p))) / 100 * (H - 10) - 5;
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    if (points.length) s.append(svg('polyline', { class: name, points: points.join(' '), 'data-series': name }));
  }
  return s;
}

function badge(text) {
  return el('span', { class: 'badge ' + text }, text);
}

// ---- models and workers ----
function drawModels(models) {
  $('models').tBodies[0].replaceChildren(...models.map(m => el('tr', { 'data-model': m.name },
    el('td', {}, m.name, m.emulated ? el('span', { class: 'dim' }, ' (emulated)') : null),
    el('td', {}, m.kinds.join(', ')),
    el('td', {}, m.workers.length ? m.workers.map(w => el('div', {}, badge(w.phase), ' ', el('span', { class: 'dim' }, w.worker),
      w.held ? el('span', { class: 'bad' }, ' held: ' + w.held) : null)) : el('span', { class: 'dim' }, 'none yet')),
    el('td', {}, String(m.pending)))));
}

// ---- the queue and the last jobs ----
function drawQueue(s) {
  const waiting = s.models.filter(m => m.pending > 0).map(m => m.name + ': ' + m.pending);
  const running = s.running.map(r => el('div', { class: 'row' }, badge(r.state), el('span', {}, r.id), el('span', { class: 'dim' }, r.model),
    el('span', { class: 'dim' }, seconds(Date.now() - r.since) + (r.steps ? ' · step ' + r.step + '/' + r.steps : ''))));
  $('queue').replaceChildren(...[
    running.length ? el('div', {}, ...running) : el('p', { class: 'dim' }, 'Nothing running.'),
    waiting.length ? el('p', { class: 'dim' }, 'Waiting or running for this gateway\'s callers: ' + waiting.join(', ')) : null,
  ].filter(Boolean));
}

function drawJobs(jobs) {
  $('jobs').tBodies[0].replaceChildren(...jobs.map(j => el('tr', {},
    el('td', {}, j.id), el('td', {}, j.model), el('td', {}, j.wait_ms == null ? '–' : seconds(j.wait_ms)),
    el('td', {}, j.run_ms == null ? '–' : seconds(j.run_ms)), el('td', {}, badge(j.outcome)))));
}

function seconds(ms) {
  return ms < 1000 ? Math.max(0, Math.round(ms)) + ' ms' : (ms / 1000).toFixed(1) + ' s';
}

// ---- the playground: one panel per kind, each from ./kinds/<kind>.js ----
const panels = new Map(); // kind -> {update(models)} or null while loading / when there is none

function playground(s) {
  const byKind = new Map();
  for (const m of s.models) for (const k of m.kinds) {
    if (s.served.includes(k)) (byKind.get(k) || byKind.set(k, []).get(k)).push(m.name);
  }
  $('playground-none').hidden = byKind.size > 0 || panels.size > 0;
  for (const [kind, models] of byKind) {
    if (panels.has(kind)) {
      const p = panels.get(kind);
      if (p && p.update) p.update(models);
      continue;
    }
    panels.set(kind, null);
    const box = el('div', { class: 'panel', 'data-kind': kind });
    $('panels').append(box);
    import('./kinds/' + encodeURIComponent(kind) + '.js')
      .then(mod => panels.set(kind, mod.default(box, models) || null))
      .catch(() => box.append(el('p', { class: 'dim' }, 'No playground for ' + kind + ' yet.')));
  }
}

poll();

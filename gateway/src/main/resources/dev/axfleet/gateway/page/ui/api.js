// What the page and its playground panels share: calls to this gateway (with the API key when one is kept) and a
// small way to build elements. Text from the bus (model names, job ids) only ever goes in as text, never as HTML.

const KEY = 'axfleet.apiKey';

export function apiKey() {
  return localStorage.getItem(KEY);
}

export function keepKey(key) {
  if (key) localStorage.setItem(KEY, key); else localStorage.removeItem(KEY);
}

/** Listeners for a refused key (the page shows its key form). */
const refusedListeners = [];
export function onKeyRefused(f) { refusedListeners.push(f); }

/** fetch() on this gateway, with the kept API key; a 401 tells the page to ask for the key again. */
export async function call(path, init = {}) {
  const headers = new Headers(init.headers || {});
  const key = apiKey();
  if (key) headers.set('Authorization', 'Bearer ' + key);
  // A form (a file upload) sets its own multipart type and boundary.
  if (init.body && !(init.body instanceof FormData) && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) {
    refusedListeners.forEach(f => f(Boolean(key)));
    throw new Error('the API key is needed');
  }
  return res;
}

/** POSTs JSON and returns the JSON answer; an error answer throws with its message. */
export async function postJson(path, body, signal) {
  const res = await call(path, { method: 'POST', body: JSON.stringify(body), signal });
  const text = await res.text();
  let data;
  try { data = JSON.parse(text); } catch { throw new Error(res.status + ': ' + text.slice(0, 200)); }
  if (!res.ok) throw new Error(errorText(data) || res.status + ' ' + res.statusText);
  return data;
}

/** The message of an error body in any of the facades' shapes. */
export function errorText(data) {
  if (!data) return null;
  if (typeof data.error === 'string') return data.error;
  if (data.error && data.error.message) return data.error.message;
  if (typeof data.detail === 'string') return data.detail;
  return null;
}

/** el('div', {class: 'x', onclick: f}, 'text', child, ...) */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** A model picker for a panel, kept to the models of its kind as they come and go. */
export function modelPicker(models) {
  const select = el('select', { 'aria-label': 'model' });
  const update = names => {
    const current = select.value;
    select.replaceChildren(...names.map(n => el('option', { value: n }, n)));
    if (names.includes(current)) select.value = current;
  };
  update(models);
  return { select, update };
}

// The web chat page of `longcat serve` (docs/server.md, "Web chat"): plain JavaScript, no framework, and
// only requests to this server's own OpenAI-compatible API. Streams with fetch + SSE parsing (EventSource
// cannot POST), cancels with an AbortController (the server notices the closed connection and cancels the
// request), and colours each token by the real experts of the step that produced it, read from the
// `longcat` extension field of the streamed chunks.
'use strict';

const $ = (id) => document.getElementById(id);
const el = {
  log: $('log'), status: $('status'), input: $('input'), send: $('send'), stop: $('stop'), regenerate: $('regenerate'),
  clear: $('clear'), composer: $('composer'), system: $('system'), colour: $('colour'), model: $('model'),
  keyform: $('keyform'), apikey: $('apikey'), ttft: $('stat-ttft'), tps: $('stat-tps'), tokens: $('stat-tokens'),
  experts: $('stat-experts'), mtpBox: $('stat-mtp-box'), mtp: $('stat-mtp'), avg: $('experts-avg'),
  legendMax: $('legend-max'),
};

const state = {
  modelId: '',
  key: sessionStorage.getItem('longcat-api-key') || '',
  turns: [],            // {role, content} of the finished turns
  controller: null,     // the AbortController of the running request
  expertSum: 0, expertCount: 0, topK: 0,  // the running average over every token shown since "Clear"
};

function headers() {
  const h = { 'Content-Type': 'application/json' };
  if (state.key) h.Authorization = `Bearer ${state.key}`;
  return h;
}

function setStatus(text) { el.status.textContent = text; }

function setBusy(busy) {
  document.body.dataset.state = busy ? 'streaming' : 'ready';
  el.send.disabled = busy || !state.modelId;
  el.stop.disabled = !busy;
  el.regenerate.disabled = busy || !state.turns.some((t) => t.role === 'user');
  el.clear.disabled = busy || state.turns.length === 0;
  el.input.disabled = !state.modelId;
}

// Blue (few real experts) through green to red (all top-k real), as `generate --show-experts`.
function expertColour(share) {
  const s = Math.min(1, Math.max(0, share));
  return `hsl(${Math.round(220 * (1 - s))} 80% 75%)`;
}

function number(id) {
  const v = $(id).value.trim();
  return v === '' ? undefined : Number(v);
}

// ---- the conversation view

function addMessage(role, text = '') {
  const box = document.createElement('article');
  box.className = `msg ${role}`;
  const head = document.createElement('header');
  const who = document.createElement('span');
  who.textContent = role === 'user' ? 'You' : role === 'assistant' ? 'LongCat' : 'Error';
  head.append(who);
  const body = document.createElement('div');
  body.className = 'text';
  body.textContent = text;
  box.append(head, body);
  if (role === 'assistant') {
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'copy';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', 'Copy this reply');
    copy.addEventListener('click', () => copyText(body.textContent, copy));
    head.append(copy);
  }
  if (role === 'error') box.setAttribute('role', 'alert');
  el.log.append(box);
  el.log.scrollTop = el.log.scrollHeight;
  return { box, body };
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {  // not a secure context (a non-loopback http address): the older way
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = 'Copy'; }, 1500);
}

function appendPiece(body, text, experts, topK) {
  if (!text) return;
  const span = document.createElement('span');
  span.className = 'tok';
  span.textContent = text;
  if (experts && experts.length && topK) {
    const mean = experts.reduce((a, b) => a + b, 0) / experts.length;
    span.dataset.experts = mean.toFixed(2);
    span.title = `${mean.toFixed(2)} real experts per layer (of ${topK})`;
    span.style.setProperty('--c', expertColour(mean / topK));
  }
  body.append(span);
  el.log.scrollTop = el.log.scrollHeight;
}

function showStats(s) {
  el.ttft.textContent = s.ttft === undefined ? '–' : `${Math.round(s.ttft)} ms`;
  el.tokens.textContent = String(s.tokens);
  const span = (s.last - s.first) / 1000;
  el.tps.textContent = s.tokens > 1 && span > 0 ? ((s.tokens - 1) / span).toFixed(1) : '–';
  el.experts.textContent = s.expertCount ? (s.expertSum / s.expertCount).toFixed(2) : '–';
  if (s.mtp !== undefined) {
    el.mtpBox.hidden = false;
    el.mtp.textContent = `${Math.round(100 * s.mtp)}%`;
  }
  el.avg.textContent = state.expertCount ? (state.expertSum / state.expertCount).toFixed(2) : '–';
  if (state.topK) el.legendMax.textContent = String(state.topK);
}

// ---- requests

async function apiError(res) {
  try {
    const j = await res.json();
    return j.error?.message || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

function askForKey(message) {
  el.keyform.hidden = false;
  setStatus(message);
  el.apikey.focus();
}

async function loadModel() {
  const res = await fetch('/v1/models', { headers: headers() });
  if (res.status === 401) {
    return askForKey(state.key ? 'The API key was refused; enter it again.'
      : 'Enter the API key this server was started with (--api-key).');
  }
  if (!res.ok) return setStatus(`Cannot list the model: ${await apiError(res)}`);
  state.modelId = (await res.json()).data[0].id;
  el.model.textContent = state.modelId;
  el.keyform.hidden = true;
  setBusy(false);
  setStatus('Ready.');
  performance.mark('longcat-interactive');
  el.input.focus();
}

function requestBody() {
  const messages = [];
  const system = el.system.value.trim();
  if (system) messages.push({ role: 'system', content: system });
  messages.push(...state.turns);
  const body = { model: state.modelId, messages, stream: true, stream_options: { include_usage: true } };
  for (const f of ['temperature', 'top_p', 'top_k', 'max_tokens', 'seed']) {
    const v = number(f);
    if (v !== undefined && !Number.isNaN(v)) body[f] = v;
  }
  if ($('ignore_eos').checked) body.ignore_eos = true;
  return body;
}

// Reads the SSE stream, calling onChunk with each parsed `data:` object until [DONE].
async function readEvents(res, onChunk) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;  // ": keep-alive" comments
        const data = line.slice(6);
        if (data === '[DONE]') return;
        onChunk(JSON.parse(data));
      }
    }
  }
}

function addNote(box, text) {
  const note = document.createElement('p');
  note.className = 'note';
  note.textContent = text;
  box.append(note);
}

async function generate() {
  const { box, body } = addMessage('assistant');
  const stats = { start: performance.mark('longcat-send').startTime, tokens: 0, expertSum: 0, expertCount: 0 };
  state.controller = new AbortController();
  setBusy(true);
  setStatus('Generating…');
  let text = '';
  let finish = '';
  try {
    const res = await fetch('/v1/chat/completions', {
      method: 'POST', headers: headers(), body: JSON.stringify(requestBody()), signal: state.controller.signal,
    });
    if (res.status === 401) {
      box.remove();
      askForKey('The API key was refused; enter it again.');
      return;
    }
    if (!res.ok) throw new Error(await apiError(res));
    await readEvents(res, (c) => {
      if (c.error) throw new Error(c.error.message);
      const ext = c.longcat;
      const experts = ext?.real_experts;
      if (ext?.top_k) state.topK = ext.top_k;
      if (typeof ext?.mtp_acceptance === 'number') stats.mtp = ext.mtp_acceptance;
      const choice = c.choices?.[0];
      if (c.usage) stats.tokens = c.usage.completion_tokens;
      if (!choice) return;
      const piece = choice.delta?.content || '';
      const now = performance.now();
      const n = experts ? experts.length : piece ? 1 : 0;  // tokens this chunk covers
      if (n && stats.first === undefined) {
        stats.first = now;
        stats.ttft = now - stats.start;
        performance.mark('longcat-first-token');
      }
      if (n) stats.last = now;
      stats.tokens += n;
      for (const x of experts || []) {
        stats.expertSum += x;
        stats.expertCount += 1;
        state.expertSum += x;
        state.expertCount += 1;
      }
      text += piece;
      appendPiece(body, piece, experts, state.topK);
      if (choice.finish_reason) finish = choice.finish_reason;
      showStats(stats);
    });
    showStats(stats);
    setStatus(finish === 'length' ? 'Stopped at max tokens.' : 'Done.');
    if (!text) addNote(box, '(empty reply)');
  } catch (e) {
    if (e.name === 'AbortError') {
      addNote(box, '(stopped)');
      setStatus('Stopped.');
    } else {
      if (!text) box.remove();
      addMessage('error', String(e.message || e));
      setStatus('Failed.');
    }
  } finally {
    if (text) state.turns.push({ role: 'assistant', content: text });
    state.controller.abort();  // after a failed chunk: close the stream, so the server cancels it
    state.controller = null;
    setBusy(false);
    el.input.focus();
  }
}

// ---- controls

el.composer.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = el.input.value;
  if (!text.trim() || state.controller) return;
  el.input.value = '';
  state.turns.push({ role: 'user', content: text });
  addMessage('user', text);
  generate();
});
el.input.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    el.composer.requestSubmit();
  }
});
el.stop.addEventListener('click', () => state.controller?.abort());
el.regenerate.addEventListener('click', () => {
  // Drop the last reply (and its view) and ask again from the last user turn.
  while (state.turns.length && state.turns.at(-1).role !== 'user') state.turns.pop();
  const last = [...el.log.querySelectorAll('.msg')].pop();
  if (last && !last.classList.contains('user')) last.remove();
  if (state.turns.length) generate();
});
el.clear.addEventListener('click', () => {
  state.turns = [];
  state.expertSum = state.expertCount = 0;
  el.log.replaceChildren();
  showStats({ tokens: 0, expertCount: 0 });
  setBusy(false);
  setStatus('Cleared.');
});
el.colour.addEventListener('change', () => el.log.classList.toggle('colour', el.colour.checked));
el.keyform.addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.key = el.apikey.value;
  sessionStorage.setItem('longcat-api-key', state.key);
  el.apikey.value = '';
  loadModel();
});

el.log.classList.toggle('colour', el.colour.checked);
loadModel().catch((e) => setStatus(`Cannot reach the server: ${e.message}`));

// The web chat page in headless Chromium (run through run.sh): the key prompt, a streamed multi-turn chat
// whose text equals the API's, stop (the server counts the request cancelled), regenerate, copy, clear, the
// expert colouring, a narrow screen, MTP acceptance when a stream carries it, and no request outside the
// server's origin. Prints the time from
// navigation to interactive and from send to the first token.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const url = process.env.LONGCAT_URL;
const key = process.env.LONGCAT_KEY;
const work = process.env.LONGCAT_WORK;
if (!url || !key || !work || !process.env.LONGCAT_MODEL) throw new Error('run this test through tests/web_e2e/run.sh');
const origin = new URL(url).origin;
const modelDir = process.env.LONGCAT_MODEL;
const modelId = basename(modelDir);
const topK = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')).moe_topk;
const SLOW = 120000;  // generous: CI also runs this under ASan+UBSan

let browser;
const requests = [];  // every URL any page of the test asked for
const pageErrors = [];  // uncaught exceptions in the page's script

async function newPage({ withKey = true, viewport = { width: 1280, height: 860 } } = {}) {
  const context = await browser.newContext({ viewport });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  if (withKey) await context.addInitScript((k) => sessionStorage.setItem('longcat-api-key', k), key);
  const page = await context.newPage();
  page.setDefaultTimeout(SLOW);
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return page;
}

async function metrics() {
  const res = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${key}` } });
  const values = {};
  for (const line of (await res.text()).split('\n')) {
    const m = line.match(/^([a-z_]+(?:\{[^}]*\})?) (\S+)$/);
    if (m) values[m[1]] = Number(m[2]);
  }
  return values;
}
const cancelled = async () => (await metrics())['longcat_sequences_finished_total{reason="cancelled"}'];

async function setSettings(page, s) {
  for (const [label, value] of Object.entries(s)) await page.getByLabel(label, { exact: true }).fill(String(value));
}

// Sends a message and waits for the reply to finish; returns the reply's text.
async function send(page, text) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: SLOW });
  return page.locator('.msg.assistant .text').last().textContent();
}

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.LONGCAT_CHROMIUM,
    // A closed network: no background services, so the browser makes no connection of its own. Playwright
    // gives every launch a fresh, temporary profile (user data dir).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

test('the page is served without the key, revalidates with its ETag, and unknown files are 404', async () => {
  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.headers.get('content-security-policy'), /connect-src 'self'/);
  const etag = page.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  assert.equal((await fetch(`${url}/`, { headers: { 'If-None-Match': etag } })).status, 304);
  const js = await fetch(`${url}/web/app.js`);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const missing = await fetch(`${url}/web/nothing.js`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'not_found');
  assert.equal((await fetch(`${url}/v1/models`)).status, 401);  // the API still needs the key
});

test('the page asks for the API key and refuses a wrong one', async () => {
  const page = await newPage({ withKey: false });
  await page.goto(`${url}/`);
  const keyField = page.getByLabel('This server needs an API key');
  await keyField.fill('wrong');
  await page.getByRole('button', { name: 'Use key' }).click();
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('refused'));
  assert.ok(await keyField.isVisible());
  assert.ok(await page.getByRole('button', { name: 'Send' }).isDisabled());
  await keyField.fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  assert.equal(await page.locator('#model').textContent(), modelId);
  assert.ok(!(await keyField.isVisible()));
  await page.context().close();
});

test('chat: streamed text, multi-turn, expert colouring, regenerate, copy, stop, clear', async () => {
  const page = await newPage();
  const chatBodies = [];
  page.on('request', (r) => { if (r.url().endsWith('/v1/chat/completions')) chatBodies.push(JSON.parse(r.postData())); });
  await page.goto(`${url}/`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  const interactive = await page.evaluate(() => performance.getEntriesByName('longcat-interactive')[0].startTime);

  // Every control has an accessible name (the locators below find them by label and role).
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, textarea, button')]
    .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim())).map((e) => e.id));
  assert.deepEqual(unnamed, []);

  // 1. A greedy reply streams in token by token and equals the API's non-streaming answer.
  await setSettings(page, { Temperature: 0, 'Max tokens': 120 });
  await page.getByLabel('Continue past end of text (ignore_eos)').check();
  await page.getByLabel('Message', { exact: true }).fill('Tell me a story about a cat.');
  // Text is on screen while the stream still runs (and Stop is offered then). Checked at every change of the
  // page, not by a polled wait: the tiny model can stream its 120 tokens between two animation frames, and a
  // wait polled per frame then never saw the streaming state (a failure seen once in six runs).
  await page.evaluate(() => {
    window.sawStreamingText = false;
    const check = () => {
      if (document.body.dataset.state === 'streaming' && !document.getElementById('stop').disabled &&
          document.querySelectorAll('.msg.assistant .tok').length >= 2) window.sawStreamingText = true;
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(() => window.sawStreamingText);
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  const firstToken = await page.evaluate(() => performance.getEntriesByName('longcat-first-token')[0].startTime -
    performance.getEntriesByName('longcat-send')[0].startTime);
  const reply = await page.locator('.msg.assistant .text').last().textContent();
  const api = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...chatBodies[0], stream: false, stream_options: undefined }),
  }).then((r) => r.json());
  assert.equal(reply, api.choices[0].message.content);
  assert.equal(await page.locator('#stat-tokens').textContent(), '120');
  assert.match(await page.locator('#stat-tps').textContent(), /^\d+(\.\d)?$/);
  assert.match(await page.locator('#stat-ttft').textContent(), /^\d+ ms$/);
  assert.ok(await page.locator('#stat-mtp-box').isHidden());  // no speculation in this server: no MTP figure
  const loaded = await page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd);
  console.log(`web chat: DOMContentLoaded ${loaded.toFixed(0)} ms, interactive ${interactive.toFixed(0)} ms ` +
    `(navigation start to the model listed and Send enabled), first token ${firstToken.toFixed(0)} ms after Send`);

  // 2. Expert colouring: every token carries its real experts per layer (0..top_k), off until toggled.
  const experts = await page.locator('.msg.assistant .tok').evaluateAll((s) => s.map((e) => Number(e.dataset.experts)));
  assert.ok(experts.length > 0 && experts.every((x) => x >= 0 && x <= topK), String(experts));
  assert.equal(await page.locator('#legend-max').textContent(), String(topK));
  const avg = Number(await page.locator('#experts-avg').textContent());
  assert.ok(Math.abs(avg - api.longcat.real_experts_per_layer[0]) < 0.02, `${avg} vs ${api.longcat.real_experts_per_layer}`);
  const background = () => page.locator('.msg.assistant .tok').first().evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(await background(), 'rgba(0, 0, 0, 0)');
  await page.getByLabel('Colour tokens by real experts').check();
  assert.notEqual(await background(), 'rgba(0, 0, 0, 0)');
  const colours = new Set(await page.locator('.msg.assistant .tok').evaluateAll((s) => s.map((e) => getComputedStyle(e).backgroundColor)));
  assert.equal(colours.size, new Set(experts).size);  // one colour per distinct count

  // 3. Copy puts the reply on the clipboard.
  await page.getByRole('button', { name: 'Copy this reply' }).last().click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), reply);

  // 4. A second turn sends the whole conversation.
  await setSettings(page, { 'Max tokens': 8, 'System prompt': 'You are a tiny cat.' });
  await send(page, 'What happened next?');
  const second = chatBodies.at(-1).messages;
  assert.deepEqual(second.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
  assert.equal(second[2].content, reply);

  // 5. Regenerate replaces the last reply, asking with the same conversation.
  const replies = await page.locator('.msg.assistant').count();
  await page.getByRole('button', { name: 'Regenerate' }).click();
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  assert.equal(await page.locator('.msg.assistant').count(), replies);
  assert.deepEqual(chatBodies.at(-1).messages, second);

  // 6. Stop mid-way: the page shows it stopped and the server counts the request cancelled. The request is
  // sent with ignore_eos: the tiny model can end a reply by itself a few tokens in, and a reply that ended
  // before the click leaves Stop disabled (a failure seen once in a full suite run).
  const before = await cancelled();
  await setSettings(page, { 'Max tokens': 1500 });
  const endless = (route) => route.continue({ postData: JSON.stringify({ ...JSON.parse(route.request().postData()), ignore_eos: true }) });
  await page.route('**/v1/chat/completions', endless);
  await page.getByLabel('Message', { exact: true }).fill('Tell me a very long story');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant:last-of-type .tok').length >= 5);
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  await page.unroute('**/v1/chat/completions', endless);
  assert.equal(await page.locator('.msg.assistant').last().locator('.note').textContent(), '(stopped)');
  const shown = Number(await page.locator('#stat-tokens').textContent());
  assert.ok(shown >= 5 && shown < 1500, `tokens shown ${shown}`);
  const settled = async () => (await cancelled()) === before + 1 && (await metrics()).longcat_requests_running === 0;
  const end = Date.now() + 30000;
  while (!(await settled()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await cancelled(), before + 1);
  assert.equal((await metrics()).longcat_requests_running, 0);

  // The screenshot for the docs: the conversation with the colouring on.
  const shot = join(work, 'web_chat.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.deepEqual([...readFileSync(shot).subarray(1, 4)], [0x50, 0x4e, 0x47]);  // "PNG"
  if (process.env.LONGCAT_WEB_SCREENSHOT) {
    mkdirSync(dirname(process.env.LONGCAT_WEB_SCREENSHOT), { recursive: true });
    copyFileSync(shot, process.env.LONGCAT_WEB_SCREENSHOT);
  }

  // 7. Clear empties the conversation; the next request starts afresh.
  await page.getByRole('button', { name: 'Clear' }).click();
  assert.equal(await page.locator('.msg').count(), 0);
  await setSettings(page, { 'Max tokens': 8 });
  await send(page, 'New start');
  assert.deepEqual(chatBodies.at(-1).messages.map((m) => m.role), ['system', 'user']);
  await page.context().close();
});

test('a narrow screen: one column, nothing wider than the screen, the chat still works', async () => {
  const page = await newPage({ viewport: { width: 360, height: 740 } });
  await page.goto(`${url}/`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  await setSettings(page, { Temperature: 0, 'Max tokens': 4 });
  await page.getByLabel('Continue past end of text (ignore_eos)').check();
  await send(page, 'Hi');
  assert.equal(await page.locator('#stat-tokens').textContent(), '4');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  for (const name of ['Send', 'Stop', 'Regenerate', 'Clear']) assert.ok(await page.getByRole('button', { name }).isVisible());
  await page.context().close();
});

test('MTP acceptance is shown when a stream carries longcat.mtp_acceptance', async () => {
  // The server has no speculation yet: this stream is made up, in the documented format (docs/server.md).
  const page = await newPage();
  await page.route('**/v1/chat/completions', (route) => {
    const chunk = (choices, longcat) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices, longcat })}\n\n`;
    route.fulfill({ status: 200, contentType: 'text/event-stream', body:
      chunk([{ index: 0, delta: { role: 'assistant', content: '' } }]) +
      chunk([{ index: 0, delta: { content: 'Two' } }], { real_experts: [1, 2], top_k: topK, mtp_acceptance: 0.5 }) +
      chunk([{ index: 0, delta: { content: ' more' }, finish_reason: 'length' }],
        { real_experts: [3], top_k: topK, mtp_acceptance: 0.75 }) + 'data: [DONE]\n\n' });
  });
  await page.goto(`${url}/`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  assert.ok(await page.locator('#stat-mtp-box').isHidden());
  await send(page, 'Hi');
  assert.ok(await page.locator('#stat-mtp-box').isVisible());
  assert.equal(await page.locator('#stat-mtp').textContent(), '75%');
  assert.equal(await page.locator('#stat-tokens').textContent(), '3');  // counted from real_experts
  assert.equal(await page.locator('#stat-experts').textContent(), '2.00');
  assert.equal(await page.locator('.msg.assistant .text').textContent(), 'Two more');
  await page.context().close();
});

test('no page asked for anything outside the server origin, and no script error', () => {
  assert.deepEqual(pageErrors, []);
  assert.ok(requests.length > 10, `only ${requests.length} requests seen`);
  const outside = requests.filter((u) => !u.startsWith(`${origin}/`));
  assert.deepEqual(outside, []);
});

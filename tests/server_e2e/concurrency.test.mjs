// The determinism contract under load: 32 concurrent clients, each running a bounded loop of greedy
// requests (chat and completions, streamed and not), get exactly the answer the same request gets when it
// runs alone on the idle server. The test also asserts that the load was really batched (mean sequences per
// step from /metrics), and that KV blocks and resident memory come back to their baseline afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, metrics, modelId, waitFor } from './common.mjs';

const openai = client();
const CLIENTS = 32;
const PER_CLIENT = 3;
const DISTINCT = 48;  // each request is sent twice under load (96 = 2 x 48): the second may hit the prefix cache

// Request i: a distinct prompt, length and kind; all greedy with ignore_eos so every one does real work.
function request(i) {
  const words = ['cat', 'moon', 'river', 'lamp', 'seven', 'blue', 'quiet', 'storm'];
  const text = Array.from({ length: 3 + (i % 5) }, (_, j) => words[(i * 3 + j * 5) % words.length]).join(' ') + ` #${i}`;
  // Long enough that a request outlives a client's turnaround between requests on a loaded machine, so the
  // 32 clients really overlap (the tiny model decodes a step in about a millisecond).
  const max_tokens = 48 + 4 * (i % 4);
  const stream = i % 3 === 0;
  if (i % 2 === 0) {
    return { chat: true, stream, body: { model: modelId, messages: [{ role: 'user', content: text }], max_tokens,
      temperature: 0, ignore_eos: true } };
  }
  return { chat: false, stream, body: { model: modelId, prompt: text, max_tokens, temperature: 0, ignore_eos: true } };
}

// Runs a request; resolves to {text, tokens} (tokens from usage, also for streams).
async function run({ chat, stream, body }) {
  const api = chat ? openai.chat.completions : openai.completions;
  if (!stream) {
    const r = await api.create(body);
    return { text: chat ? r.choices[0].message.content : r.choices[0].text, tokens: r.usage.completion_tokens };
  }
  let text = '';
  let tokens = -1;
  for await (const c of await api.create({ ...body, stream: true, stream_options: { include_usage: true } })) {
    if (c.usage) tokens = c.usage.completion_tokens;
    for (const ch of c.choices) text += (chat ? ch.delta?.content : ch.text) ?? '';
  }
  return { text, tokens };
}

const idle = async () => waitFor(async () => {
  const m = await metrics();
  return m.longcat_requests_running === 0 && m.longcat_requests_waiting === 0 && m.longcat_kv_cache_blocks_used === 0;
}, 20000);

async function load(alone) {
  const before = await metrics();
  const wrong = [];
  let tokens = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    for (let j = 0; j < PER_CLIENT; ++j) {
      const i = (c + CLIENTS * j) % DISTINCT;
      const got = await run(request(i));
      tokens += got.tokens;
      if (got.text !== alone[i].text || got.tokens !== alone[i].tokens) wrong.push(i);
    }
  }));
  const after = await metrics();
  const steps = after.longcat_steps_total - before.longcat_steps_total;
  const batch = (after.longcat_step_sequences_total - before.longcat_step_sequences_total) / steps;
  return { wrong, tokens, steps, batch };
}

test('32 concurrent clients get what each request gets alone, batched, and memory comes back', async () => {
  // Each request alone, one after the other on the idle server.
  const alone = [];
  for (let i = 0; i < DISTINCT; ++i) {
    alone.push(await run(request(i)));
    assert.equal(alone[i].tokens, request(i).body.max_tokens, `request ${i} alone`);
  }
  assert.ok(await idle(), 'the server is not idle after the requests alone');
  const baseline = await metrics();

  const first = await load(alone);
  assert.deepEqual(first.wrong, [], 'requests whose answer under load differs from alone');
  assert.equal(first.tokens, 2 * alone.reduce((a, r) => a + r.tokens, 0));
  // Batching happened: 32 clients keep most of them in every step.
  assert.ok(first.batch >= 6, `mean batch ${first.batch} over ${first.steps} steps`);
  assert.ok(await idle(), 'KV blocks or sequences still in use after the load');
  const afterFirst = await metrics();

  const second = await load(alone);
  assert.deepEqual(second.wrong, [], 'second round');
  assert.ok(await idle(), 'KV blocks or sequences still in use after the second load');
  const afterSecond = await metrics();

  const mb = (x) => x / (1 << 20);
  const rss = [baseline, afterFirst, afterSecond].map((m) => m.process_resident_memory_bytes);
  console.log(`mean batch ${first.batch.toFixed(2)} / ${second.batch.toFixed(2)} sequences per step; ` +
    `RSS ${rss.map((x) => mb(x).toFixed(1)).join(' -> ')} MiB`);
  assert.ok(rss[0] > 0, 'process_resident_memory_bytes is missing');
  // The first load may grow the allocator's per-thread arenas (32 HTTP threads at once); after that, a
  // repeated load must not grow memory again (nothing is kept per request).
  assert.ok(rss[1] - rss[0] < 64 * (1 << 20), `RSS grew by ${mb(rss[1] - rss[0]).toFixed(1)} MiB in the first load`);
  // Under ASan (LONGCAT_E2E_ASAN, set by CTest for the sanitizer build) its allocator's per-thread caches and
  // quarantine add up to ~1 MiB per active thread on top.
  const again = (process.env.LONGCAT_E2E_ASAN ? 40 : 8) * (1 << 20);
  assert.ok(rss[2] - rss[1] < again, `RSS grew by ${mb(rss[2] - rss[1]).toFixed(1)} MiB in the second load`);
});

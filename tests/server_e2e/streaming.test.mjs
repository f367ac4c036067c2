// Streaming (SSE) through the OpenAI SDK: chunk format, the same text as without streaming, usage when
// asked, and cancellation when the client goes away mid-stream (its KV blocks freed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, metrics, modelId, waitFor } from './common.mjs';

const openai = client();

test('a chat stream carries the same text as the plain reply, then usage', async () => {
  const body = { model: modelId, messages: [{ role: 'user', content: 'Stream this' }], max_tokens: 16, temperature: 0 };
  const plain = await openai.chat.completions.create(body);
  const chunks = [];
  for await (const c of await openai.chat.completions.create({ ...body, stream: true,
    stream_options: { include_usage: true } })) chunks.push(c);
  assert.equal(chunks[0].object, 'chat.completion.chunk');
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.ok(chunks.every((c) => c.id === chunks[0].id && c.model === modelId));
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage.completion_tokens, plain.usage.completion_tokens);
  assert.deepEqual(usage.usage.prompt_tokens, plain.usage.prompt_tokens);
  const last = chunks.at(-2).choices[0];
  assert.equal(last.finish_reason, plain.choices[0].finish_reason);
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, plain.choices[0].message.content);
  // The `longcat` extension (ignored by the SDK): real experts per layer of every generated token, whose
  // mean is the plain reply's.
  const experts = chunks.flatMap((c) => c.longcat?.real_experts ?? []);
  assert.equal(experts.length, plain.usage.completion_tokens);
  assert.ok(chunks.every((c) => !c.longcat || c.longcat.top_k === 3));
  const mean = experts.reduce((a, b) => a + b, 0) / experts.length;
  assert.ok(Math.abs(mean - plain.longcat.real_experts_per_layer[0]) < 1e-3, `${mean} ${plain.longcat.real_experts_per_layer}`);
});

test('a completion stream with n = 2 streams both choices', async () => {
  const seen = { 0: '', 1: '' };
  const finished = new Set();
  for await (const c of await openai.completions.create({ model: modelId, prompt: [9, 8, 7], max_tokens: 6,
    temperature: 0, n: 2, ignore_eos: true, stream: true })) {
    for (const ch of c.choices) {
      seen[ch.index] += ch.text;
      if (ch.finish_reason) finished.add(ch.index);
    }
  }
  assert.equal(seen[0], seen[1]);
  assert.deepEqual([...finished].sort(), [0, 1]);
});

test('a client that disconnects mid-stream is cancelled and its blocks are freed', async () => {
  const before = await metrics();
  const controller = new AbortController();
  const stream = await openai.chat.completions.create({
    model: modelId, messages: [{ role: 'user', content: 'Go on forever' }], max_tokens: 3000, temperature: 0,
    ignore_eos: true, stream: true,
  }, { signal: controller.signal });
  let n = 0;
  for await (const c of stream) {
    assert.equal(c.object, 'chat.completion.chunk');
    if (++n === 5) {
      controller.abort();  // the client goes away: the connection closes
      break;
    }
  }
  assert.ok(await waitFor(async () => {
    const m = await metrics();
    return m.longcat_client_disconnects_total > (before.longcat_client_disconnects_total ?? 0) &&
      m.longcat_requests_running === 0 && m.longcat_kv_cache_usage_ratio === 0;
  }), 'the stream was not cancelled');
  const m = await metrics();
  assert.ok(m['longcat_sequences_finished_total{reason="cancelled"}'] >= 1);
});

// /v1/chat/completions through the OpenAI SDK: response shape, usage, greedy results under concurrency equal
// to `longcat generate` (batch invariance), n choices, seeds, stop strings, logprobs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, generate, modelId } from './common.mjs';

const openai = client();
const prompts = ['Once upon a time', 'The cat sat on', 'Hello, world', 'In the beginning'];

test('lists the served model', async () => {
  const models = await openai.models.list();
  assert.deepEqual(models.data.map((m) => m.id), [modelId]);
});

test('a chat completion has the OpenAI shape and usage', async () => {
  const r = await openai.chat.completions.create({
    model: modelId, messages: [{ role: 'user', content: 'Hi there' }], max_tokens: 8, temperature: 0,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, modelId);
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 8);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.equal(r.longcat.real_experts_per_layer.length, 1);
});

test('concurrent greedy chats equal longcat generate for the same prompt', async () => {
  const served = await Promise.all(prompts.flatMap((p) => [false, true].map(async (stream) => {
    const body = { model: modelId, messages: [{ role: 'user', content: p }], max_tokens: 24, temperature: 0 };
    if (!stream) return (await openai.chat.completions.create(body)).choices[0];
    let content = '';
    let finish = null;
    for await (const c of await openai.chat.completions.create({ ...body, stream: true })) {
      content += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    return { message: { content }, finish_reason: finish };
  })));
  for (let i = 0; i < prompts.length; ++i) {
    const ref = await generate(['--prompt', prompts[i], '--chat', '--max-new-tokens', '24']);
    for (const got of served.slice(2 * i, 2 * i + 2)) {
      assert.equal(got.message.content, ref.text, `prompt ${JSON.stringify(prompts[i])}`);
      assert.equal(got.finish_reason, ref.finish_reason);
    }
  }
});

test('n choices: greedy ones agree, seeded sampling is reproducible', async () => {
  const messages = [{ role: 'user', content: 'Tell me a story' }];
  const greedy = await openai.chat.completions.create({ model: modelId, messages, n: 3, max_tokens: 10, temperature: 0 });
  assert.equal(greedy.choices.length, 3);
  assert.deepEqual(greedy.choices.map((c) => c.index), [0, 1, 2]);
  for (const c of greedy.choices) assert.equal(c.message.content, greedy.choices[0].message.content);
  const sampled = () => openai.chat.completions.create({
    model: modelId, messages, n: 2, max_tokens: 10, temperature: 1, seed: 42, top_p: 0.9, presence_penalty: 0.5,
  });
  const [a, b] = [await sampled(), await sampled()];
  assert.deepEqual(a.choices.map((c) => c.message.content), b.choices.map((c) => c.message.content));
});

test('a stop string ends the reply before it', async () => {
  const body = { model: modelId, messages: [{ role: 'user', content: 'Count with me' }], max_tokens: 30,
    temperature: 0, ignore_eos: true };
  const full = (await openai.chat.completions.create(body)).choices[0].message.content;
  const stop = [...full].slice(4, 6).join('');
  assert.ok(stop.length > 0);
  const cut = (await openai.chat.completions.create({ ...body, stop: [stop] })).choices[0];
  assert.equal(cut.message.content, full.slice(0, full.indexOf(stop)));
  assert.equal(cut.finish_reason, 'stop');
});

test('logprobs: one entry per token, with the top alternatives', async () => {
  const r = await openai.chat.completions.create({
    model: modelId, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5, temperature: 0, ignore_eos: true,
    logprobs: true, top_logprobs: 3,
  });
  const lp = r.choices[0].logprobs.content;
  assert.equal(lp.length, r.usage.completion_tokens);
  for (const t of lp) {
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 3);
    assert.equal(t.top_logprobs[0].logprob, t.logprob);  // greedy: the sampled token is the most likely
    assert.deepEqual(t.bytes, [...Buffer.from(t.token)]);
  }
});

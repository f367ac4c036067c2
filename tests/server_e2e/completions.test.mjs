// /v1/completions through the OpenAI SDK: text and token-id prompts (greedy equal to `longcat generate`),
// echo, logprobs in the completions format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, generate, modelId } from './common.mjs';

const openai = client();

test('a text prompt completes like longcat generate --prompt', async () => {
  const r = await openai.completions.create({ model: modelId, prompt: 'Once upon a time', max_tokens: 20, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.match(r.id, /^cmpl-/);
  const ref = await generate(['--prompt', 'Once upon a time', '--max-new-tokens', '20']);
  assert.equal(r.choices[0].text, ref.text);
  assert.equal(r.choices[0].finish_reason, ref.finish_reason);
  assert.equal(r.usage.prompt_tokens, 16);  // one byte token per character
});

test('token-id prompts are used verbatim, concurrently and batch-invariant', async () => {
  const prompts = [[5, 17, 42], [100, 200, 300, 400, 10], [7], Array.from({ length: 70 }, (_, i) => 4 + ((i * 13) % 250))];
  const got = await Promise.all(prompts.map((ids) => openai.completions.create({
    model: modelId, prompt: ids, max_tokens: 12, temperature: 0, ignore_eos: true,
  })));
  for (let i = 0; i < prompts.length; ++i) {
    const ref = await generate(['--ids', prompts[i].join(','), '--max-new-tokens', '12', '--ignore-eos']);
    assert.equal(got[i].choices[0].text, ref.text, `prompt ${i}`);
    assert.equal(got[i].usage.completion_tokens, 12);
    assert.equal(got[i].usage.prompt_tokens, prompts[i].length);
  }
});

test('echo prepends the prompt; logprobs come in the completions format', async () => {
  const r = await openai.completions.create({
    model: modelId, prompt: 'abc', max_tokens: 4, temperature: 0, ignore_eos: true, echo: true, logprobs: 2,
  });
  const c = r.choices[0];
  assert.ok(c.text.startsWith('abc'));
  assert.equal(c.logprobs.tokens.length, 4);
  assert.equal(c.logprobs.token_logprobs.length, 4);
  assert.equal(c.logprobs.top_logprobs.length, 4);
  for (const top of c.logprobs.top_logprobs) assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= 2);
  assert.equal(c.logprobs.text_offset[0], 3);
  assert.equal(c.logprobs.tokens.join(''), c.text.slice(3));
});

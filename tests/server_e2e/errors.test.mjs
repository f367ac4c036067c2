// Errors in the OpenAI format, as the SDK sees them: unknown model (404), bad fields (400 naming the field),
// wrong key (401), context overflow (400), and a full queue (429) on a server of its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { client, key, modelId, startServer, url } from './common.mjs';

const openai = client();
const messages = [{ role: 'user', content: 'Hi' }];

async function rejectsWith(promise, Type, status, param) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Type, `${e.constructor.name}: ${e.message}`);
    assert.equal(e.status, status);
    if (param !== undefined) assert.equal(e.param, param);
    return true;
  });
}

test('a request naming another model gets 404', async () => {
  await rejectsWith(openai.chat.completions.create({ model: 'gpt-4o', messages }), OpenAI.NotFoundError, 404, 'model');
});

test('bad fields give 400 naming the field', async () => {
  await rejectsWith(openai.chat.completions.create({ model: modelId, messages, temperature: 'hot' }),
    OpenAI.BadRequestError, 400, 'temperature');
  await rejectsWith(openai.chat.completions.create({ model: modelId, messages, temperature: 3 }),
    OpenAI.BadRequestError, 400, 'temperature');
  await rejectsWith(openai.chat.completions.create({ model: modelId, messages: [] }), OpenAI.BadRequestError, 400, 'messages');
  await rejectsWith(openai.chat.completions.create({ model: modelId, messages: [{ role: 'wizard', content: 'x' }] }),
    OpenAI.BadRequestError, 400, 'messages[0].role');
  await rejectsWith(openai.chat.completions.create({ model: modelId, messages, n: 'two' }), OpenAI.BadRequestError, 400, 'n');
  await rejectsWith(openai.completions.create({ model: modelId, prompt: ['a', 'b'] }), OpenAI.BadRequestError, 400, 'prompt');
  await rejectsWith(openai.chat.completions.create({ model: modelId, messages, max_tokens: 100000 }),
    OpenAI.BadRequestError, 400, 'max_tokens');
});

test('a wrong API key gets 401; /health needs none', async () => {
  const bad = client({ apiKey: 'not-the-key' });
  await rejectsWith(bad.models.list(), OpenAI.AuthenticationError, 401);
  assert.equal((await fetch(`${url}/health`)).status, 200);
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.code, 'invalid_api_key');
});

test('a full queue answers 429, and the rest are served', async () => {
  const server = await startServer(['--max-running', '1', '--max-waiting', '1']);
  try {
    const small = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => small.completions.create({
      model: modelId, prompt: [5, 6, 7], max_tokens: 200, temperature: 0, ignore_eos: true,
    })));
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.ok(rejected.length >= 1, 'no request was refused');
    for (const r of rejected) {
      assert.ok(r.reason instanceof OpenAI.RateLimitError, r.reason.message);
      assert.equal(r.reason.code, 'rate_limit_exceeded');
    }
    assert.ok(results.some((r) => r.status === 'fulfilled'));
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

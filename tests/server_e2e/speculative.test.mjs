// `serve --speculative mtp` on the bundled demo model (trained MTP head, real tokenizer): under concurrency,
// every greedy reply is token for token the reply of a plain server to the same request alone, and the same
// test asserts from /metrics that drafts were accepted and that steps were batched.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { client, metrics, modelId, startServer } from './common.mjs';

const demo = fileURLToPath(new URL('../../models/longcat-tinystories', import.meta.url));
const stories = ['Once upon a time, there was a little', 'Tom and his dog went to the', 'The sun was hot and',
  'Lily wanted to play with her', 'One day, a big bird', 'Mom said, "Let us go to the', 'There was a small red',
  'Ben found a box in the', 'The cat sat on the', 'Sara liked to draw'];

function request(i) {
  const body = { model: modelId, max_tokens: 24 + (i % 3) * 8, temperature: 0 };
  if (i % 2 === 0) return { chat: false, body: { ...body, prompt: stories[i % stories.length] } };
  return { chat: true, body: { ...body, messages: [{ role: 'user', content: stories[i % stories.length] }] } };
}

// The reply, and the choice's MTP acceptance from the `longcat` extension (undefined without speculation).
async function run(openai, { chat, body }, acceptance = []) {
  const r = chat ? await openai.chat.completions.create(body) : await openai.completions.create(body);
  acceptance.push(r.longcat.mtp_acceptance?.[0]);
  return { text: chat ? r.choices[0].message.content : r.choices[0].text, tokens: r.usage.completion_tokens,
    finish: r.choices[0].finish_reason };
}

test('speculative serving: greedy replies equal plain ones under concurrency, drafts accepted', async () => {
  const N = 16;
  const plain = await startServer([], demo);
  const alone = [];
  try {
    const openai = client({ baseURL: `${plain.url}/v1` });
    const none = [];
    for (let i = 0; i < N; ++i) alone.push(await run(openai, request(i), none));
    assert.ok(none.every((a) => a === undefined), 'mtp_acceptance without speculation');
  } finally {
    assert.equal(await plain.stop(), 0);
  }
  const spec = await startServer(['--speculative', 'mtp'], demo);
  try {
    const openai = client({ baseURL: `${spec.url}/v1` });
    const perRequest = [];
    const got = await Promise.all(Array.from({ length: N }, (_, i) => run(openai, request(i), perRequest)));
    for (let i = 0; i < N; ++i) assert.deepEqual(got[i], alone[i], `request ${i}`);
    for (const a of perRequest) assert.ok(a >= 0 && a <= 1, `longcat.mtp_acceptance ${a}`);
    assert.ok(perRequest.reduce((x, y) => x + y, 0) / N > 0.5, `per-request acceptance ${perRequest}`);
    const m = await metrics(spec.url);
    const rate = m['longcat_spec_acceptance_rate{position="1"}'];
    console.log(`acceptance ${rate.toFixed(3)}, ${m.longcat_spec_tokens_per_target_forward.toFixed(2)} tokens per ` +
      `target forward, mean batch ${m.longcat_batch_size_mean.toFixed(2)}`);
    assert.ok(rate > 0.5, `acceptance rate ${rate}`);
    assert.ok(m.longcat_spec_tokens_per_target_forward > 1.4);
    assert.ok(m.longcat_batch_size_mean > 2, `mean batch ${m.longcat_batch_size_mean}`);
    assert.equal(m.longcat_kv_cache_blocks_used, 0);
    // Streamed, the finishing chunk carries the choice's acceptance in the `longcat` extension (the web page
    // shows it); the text still equals the plain server's.
    const stream = await openai.completions.create({ ...request(0).body, stream: true });
    let text = '';
    let streamed;
    for await (const c of stream) {
      text += c.choices[0]?.text ?? '';
      if (c.longcat?.mtp_acceptance !== undefined) streamed = c.longcat.mtp_acceptance;
    }
    assert.equal(text, alone[0].text);
    assert.ok(streamed >= 0 && streamed <= 1, `streamed mtp_acceptance ${streamed}`);
  } finally {
    assert.equal(await spec.stop(), 0);
  }
});

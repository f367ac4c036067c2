// Tool calls: the model's <longcat_tool_call> block comes back as OpenAI tool_calls, plain and streamed.
// The random-weight fixture cannot choose to call a tool, so the test forces the fixture tokenizer's
// whole-block token (make_tokenizer.mjs) with logit_bias.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, modelId } from './common.mjs';
import { TOOL_CALL_TOKEN } from './make_tokenizer.mjs';

const openai = client();
const tools = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}];
const body = {
  model: modelId, tools, temperature: 0, max_tokens: 1, logit_bias: { [TOOL_CALL_TOKEN]: 100 },
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
};

test('a tool-call block becomes message.tool_calls', async () => {
  const r = await openai.chat.completions.create(body);
  const c = r.choices[0];
  assert.equal(c.finish_reason, 'tool_calls');
  assert.equal(c.message.content, null);
  assert.equal(c.message.tool_calls.length, 1);
  const call = c.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  // The tools were rendered into the prompt.
  const without = await openai.chat.completions.create({ ...body, tools: undefined });
  assert.ok(r.usage.prompt_tokens > without.usage.prompt_tokens + 50);
  assert.equal(without.choices[0].finish_reason, 'length');  // no tools offered: the block is plain content
});

test('streamed, the block never shows as content and arrives as a tool_calls delta', async () => {
  let content = '';
  const calls = [];
  let finish = null;
  for await (const c of await openai.chat.completions.create({ ...body, stream: true })) {
    const d = c.choices[0]?.delta ?? {};
    content += d.content ?? '';
    if (d.tool_calls) calls.push(...d.tool_calls);
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(content, '');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.equal(finish, 'tool_calls');
});

test('a conversation carrying a tool call and its result is accepted', async () => {
  const r = await openai.chat.completions.create({
    model: modelId, tools, temperature: 0, max_tokens: 4,
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temperature": 21}' },
    ],
  });
  assert.equal(r.choices.length, 1);
});

// Hostile and broken clients: every bad request gets a 4xx with an OpenAI error body or a clean close, never a
// crash, and a client being served meanwhile gets exactly its answer. Covers malformed JSON, wrong types,
// an unknown model, a prompt longer than the context, max_tokens out of range, garbage
// bytes, abrupt disconnects (before the answer, and of a non-streaming request mid-generation: cancelled),
// and slow partial requests (closed by the read timeout while other clients are served). Oversize bodies
// (413) are checked with curl in run.sh, which sends the whole body before reading the answer.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { client, key, metrics, modelId, startServer, url, waitFor } from './common.mjs';

const openai = client();
const auth = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };

// A long greedy stream that runs while the bad requests arrive; compared with the same request alone.
const witness = { model: modelId, prompt: [11, 12, 13, 14], max_tokens: 200, temperature: 0, ignore_eos: true };
async function streamText(openaiClient, body) {
  let text = '';
  for await (const c of await openaiClient.completions.create({ ...body, stream: true })) text += c.choices[0]?.text ?? '';
  return text;
}

async function post(path, body, base = url) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: auth, body });
  return { status: res.status, body: await res.text() };
}

// Opens a raw connection, writes `bytes`, and resolves to what the server answered (possibly nothing) once
// it closed the connection, or null when it did not within `ms`. `closedAfter` gets the seconds it took.
function raw(port, bytes, { ms = 10000, destroyAfterWrite = false, closedAfter = () => {} } = {}) {
  return new Promise((resolve) => {
    const opened = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(null);
    }, ms);
    sock.on('connect', () => {
      sock.write(bytes);
      if (destroyAfterWrite) {
        sock.destroy();
        clearTimeout(timer);
        resolve('');
      }
    });
    sock.on('data', (d) => { answer += d; });
    sock.on('error', () => {});
    sock.on('close', () => {
      closedAfter((Date.now() - opened) / 1000);
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

const port = () => Number(new URL(url).port);

// Sequences finished so far, whatever the reason.
const finishedSequences = (m) => Object.entries(m)
  .filter(([name]) => name.startsWith('longcat_sequences_finished_total{')).reduce((sum, [, v]) => sum + v, 0);

test('bad requests get OpenAI error bodies while a stream is served unaffected', async () => {
  const alone = await streamText(openai, witness);
  const start = await metrics();
  const running = streamText(openai, witness);

  const cases = [
    ['malformed JSON', '/v1/chat/completions', '{"model": "tiny", "messages": [{"role": ', 400, null],
    ['not an object', '/v1/completions', '[1, 2, 3]', 400, null],
    ['wrong type', '/v1/chat/completions', JSON.stringify({ messages: 'hello' }), 400, 'messages'],
    ['wrong type in a message', '/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 7 }] }), 400,
      'messages[0].content'],
    ['unknown model', '/v1/completions', JSON.stringify({ model: 'gpt-5', prompt: 'x' }), 404, 'model'],
    ['prompt beyond the context', '/v1/completions',
      JSON.stringify({ prompt: Array.from({ length: 5000 }, (_, i) => 4 + (i % 400)), max_tokens: 1 }), 400, 'prompt'],
    ['max_tokens 0', '/v1/completions', JSON.stringify({ prompt: 'x', max_tokens: 0 }), 400, 'max_tokens'],
    ['max_tokens negative', '/v1/completions', JSON.stringify({ prompt: 'x', max_tokens: -5 }), 400, 'max_tokens'],
    ['max_tokens beyond the context', '/v1/completions', JSON.stringify({ prompt: 'x', max_tokens: 1e6 }), 400, 'max_tokens'],
    ['max_tokens fractional', '/v1/completions', JSON.stringify({ prompt: 'x', max_tokens: 2.5 }), 400, 'max_tokens'],
    ['invalid UTF-8 in JSON', '/v1/completions', Buffer.from([0x7b, 0x22, 0x70, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400, null],
  ];
  for (const [what, path, body, status, param] of cases) {
    const r = await post(path, body);
    assert.equal(r.status, status, `${what}: ${r.body}`);
    const err = JSON.parse(r.body).error;
    assert.ok(typeof err.message === 'string' && err.message.length > 0, `${what}: ${r.body}`);
    assert.ok(typeof err.type === 'string', `${what}: ${r.body}`);
    if (param !== null) assert.equal(err.param, param, `${what}: ${r.body}`);
  }
  // Not HTTP at all, a request line without headers, and a client that leaves right after its request.
  const garbage = await raw(port(), '\x00\x01\x02 hello there\r\n\r\n');
  assert.ok(garbage !== null, 'garbage bytes: the connection was not closed');
  assert.ok(garbage === '' || /^HTTP\/1\.1 4\d\d/.test(garbage), `garbage bytes: ${garbage.slice(0, 80)}`);
  const body = JSON.stringify({ prompt: [5, 6], max_tokens: 50, ignore_eos: true });
  await raw(port(), `POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`, { destroyAfterWrite: true });

  assert.equal(await running, alone, 'the stream served meanwhile changed');
  assert.equal((await fetch(`${url}/health`)).status, 200);
  // Two sequences were made since `start` (the witness and the client that left; bad requests make none):
  // wait until both are finished, so the next test's counts start from a quiet server. Waiting only for the
  // blocks raced the departed client's request, which could still be unread when the blocks were free.
  assert.ok(await waitFor(async () => {
    const m = await metrics();
    return finishedSequences(m) - finishedSequences(start) === 2 && m.longcat_requests_running === 0 &&
      m.longcat_requests_waiting === 0 && m.longcat_kv_cache_blocks_used === 0;
  }), 'the sequences were not finished or their blocks not freed');
});

test('a non-streaming request whose client disconnects is cancelled and its blocks freed', async () => {
  const before = await metrics();
  const controller = new AbortController();
  const pending = openai.completions.create({ model: modelId, prompt: [21, 22, 23], max_tokens: 3500, temperature: 0,
    ignore_eos: true }, { signal: controller.signal });
  assert.ok(await waitFor(async () => (await metrics()).longcat_requests_running === 1), 'the request did not start');
  controller.abort();
  await assert.rejects(pending);
  assert.ok(await waitFor(async () => {
    const m = await metrics();
    return m.longcat_client_disconnects_total > (before.longcat_client_disconnects_total ?? 0) &&
      m.longcat_requests_running === 0 && m.longcat_kv_cache_blocks_used === 0;
  }), 'the request was not cancelled');
  const m = await metrics();
  const cancelled = 'longcat_sequences_finished_total{reason="cancelled"}';
  assert.equal(m[cancelled] - (before[cancelled] ?? 0), 1);
  // It stopped early: far fewer than its 3500 tokens were generated.
  assert.ok(m.longcat_generation_tokens_total - before.longcat_generation_tokens_total < 3500);
});

test('slow partial requests are closed by the read timeout while other clients are served', async () => {
  const server = await startServer(['--timeout', '1', '--http-threads', '16']);
  try {
    const p = Number(new URL(server.url).port);
    const other = client({ baseURL: `${server.url}/v1` });
    const alone = await streamText(other, { ...witness, max_tokens: 40 });
    // Eight clients that stall: half a header, all headers but half the body, and a bare connection. httplib
    // waits up to its keep-alive timeout (5 s) for a request to begin, then --timeout (1 s) per read.
    const closed = [];
    const opts = { ms: 30000, closedAfter: (s) => closed.push(s) };
    const stalled = [
      ...Array.from({ length: 3 }, () => raw(p, 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Ty', opts)),
      ...Array.from({ length: 3 }, () => raw(p, `POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{"prompt": [5, 6,', opts)),
      ...Array.from({ length: 2 }, () => raw(p, '', opts)),
    ];
    // Meanwhile, others are served, with their exact answers.
    const served = await Promise.all(Array.from({ length: 4 }, () => streamText(other, { ...witness, max_tokens: 40 })));
    for (const text of served) assert.equal(text, alone);
    const answers = await Promise.all(stalled);
    for (const a of answers) {
      assert.ok(a !== null, 'a stalled connection was not closed within 30 s');
      assert.ok(a === '' || /^HTTP\/1\.1 (4\d\d)/.test(a), `a stalled connection got: ${a.slice(0, 80)}`);
    }
    console.log(`stalled connections closed after ${closed.map((s) => s.toFixed(1)).join(', ')} s`);
    assert.ok(Math.max(...closed) < 15, `closing the stalled connections took up to ${Math.max(...closed)} s`);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

// Load generator for `longcat serve`: starts the server, runs concurrent streaming chat clients, and reports
// client-side TTFT (first chunk) and throughput next to the server's own /metrics (mean batch size, the
// compute idle gap between steps, step time, TTFT, TPOT). No dependencies beyond Node 18+. The model folder
// needs a tokenizer.json; prompts are --prompt characters of pseudo-random text.
//   node bench/serve_load.mjs --bin build/longcat --model DIR [--clients 8] [--requests 48] [--prompt 48]
//        [--max-tokens 32] [--threads 2] [--label NAME] [-- extra serve options, e.g. --no-overlap]
// Prints a table on stderr and one JSON line on stdout.
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const own = split < 0 ? argv : argv.slice(0, split);
const serverArgs = split < 0 ? [] : argv.slice(split + 1);
const opt = (name, fallback) => {
  const i = own.indexOf(`--${name}`);
  return i < 0 ? fallback : own[i + 1];
};
const bin = opt('bin', 'build/longcat');
const model = opt('model');
const clients = Number(opt('clients', 8));
const requests = Number(opt('requests', 48));
const promptLen = Number(opt('prompt', 48));
const maxTokens = Number(opt('max-tokens', 32));
const threads = opt('threads', '2');
const label = opt('label', serverArgs.join(' ') || 'default');
if (!model) throw new Error('--model DIR is required');

async function startServer() {
  const child = spawn(bin, ['serve', '--model', model, '--port', '0', '--threads', threads, ...serverArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/listening on http:\/\/[^:]+:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${url}/health`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, child };
}

// One streaming completion; resolves to {ttft, seconds, tokens}.
async function one(url, index) {
  // A distinct prompt per request (no prefix sharing between them beyond the chat template).
  const letters = 'abcdefghijklmnopqrstuvwxyz     ';
  const content = Array.from({ length: promptLen }, (_, i) => letters[(index * 7919 + i * 104729) % letters.length]).join('');
  const start = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content }], max_tokens: maxTokens, temperature: 0,
      ignore_eos: true, stream: true, stream_options: { include_usage: true } }),
  });
  let ttft = null;
  let tokens = 0;
  let buffer = '';
  for await (const part of res.body) {
    buffer += Buffer.from(part).toString();
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!event.startsWith('data: {')) continue;
      const chunk = JSON.parse(event.slice(6));
      if (ttft === null && chunk.choices.length) ttft = (performance.now() - start) / 1000;
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
    }
  }
  return { ttft, seconds: (performance.now() - start) / 1000, tokens };
}

function parseMetrics(text) {
  const m = {};
  for (const line of text.split('\n')) {
    const r = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/);
    if (!r) continue;
    if (r[2]) (m[r[1]] ??= {})[r[2]] = Number(r[3]);
    else m[r[1]] = Number(r[3]);
  }
  return m;
}

// Quantile of a Prometheus histogram, by linear interpolation inside the bucket.
function quantile(buckets, q) {
  const entries = Object.entries(buckets).map(([k, v]) => [k.match(/le="([^"]+)"/)[1], v])
    .map(([le, v]) => [le === '+Inf' ? Infinity : Number(le), v]).sort((a, b) => a[0] - b[0]);
  const total = entries.at(-1)[1];
  if (!total) return 0;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of entries) {
    if (count >= q * total) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * ((q * total - prevCount) / Math.max(count - prevCount, 1));
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

const { url, child } = await startServer();
const t0 = performance.now();
const results = [];
let next = 0;
await Promise.all(Array.from({ length: clients }, async () => {
  while (next < requests) results.push(await one(url, next++));
}));
const wall = (performance.now() - t0) / 1000;
const m = parseMetrics(await (await fetch(`${url}/metrics`)).text());
child.kill('SIGTERM');

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const tokens = results.reduce((a, r) => a + r.tokens, 0);
const out = {
  label, clients, requests, prompt_tokens: promptLen, max_tokens: maxTokens, threads: Number(threads),
  wall_seconds: wall,
  output_tokens_per_second: tokens / wall,
  client_ttft_mean_s: mean(results.map((r) => r.ttft)),
  server_ttft_mean_s: m.longcat_time_to_first_token_seconds_sum / m.longcat_time_to_first_token_seconds_count,
  server_tpot_mean_s: m.longcat_time_per_output_token_seconds_sum / m.longcat_time_per_output_token_seconds_count,
  mean_batch_size: m.longcat_batch_size_mean,
  steps: m.longcat_steps_total,
  step_mean_s: m.longcat_step_duration_seconds_sum / m.longcat_step_duration_seconds_count,
  gap_mean_s: m.longcat_step_gap_seconds_sum / m.longcat_step_gap_seconds_count,
  gap_p50_s: quantile(m.longcat_step_gap_seconds_bucket, 0.5),
  gap_p99_s: quantile(m.longcat_step_gap_seconds_bucket, 0.99),
  gap_buckets: m.longcat_step_gap_seconds_bucket,
  gap_share_of_compute: (m.longcat_step_gap_seconds_sum) /
    (m.longcat_step_duration_seconds_sum + m.longcat_step_gap_seconds_sum),
  real_experts_per_token: m.longcat_real_experts_per_token,
};
const us = (s) => `${(s * 1e6).toFixed(1)} us`;
process.stderr.write(`${label}: ${requests} requests x ${maxTokens} tokens, ${clients} clients, prompt ${promptLen}\n` +
  `  throughput ${out.output_tokens_per_second.toFixed(1)} tok/s, wall ${wall.toFixed(2)} s\n` +
  `  TTFT client ${(out.client_ttft_mean_s * 1e3).toFixed(1)} ms, server ${(out.server_ttft_mean_s * 1e3).toFixed(1)} ms;` +
  ` TPOT ${(out.server_tpot_mean_s * 1e3).toFixed(2)} ms\n` +
  `  mean batch ${out.mean_batch_size.toFixed(2)} sequences over ${out.steps} steps, step ${(out.step_mean_s * 1e3).toFixed(2)} ms\n` +
  `  idle gap between steps: mean ${us(out.gap_mean_s)}, p50 ${us(out.gap_p50_s)}, p99 ${us(out.gap_p99_s)}` +
  ` (${(out.gap_share_of_compute * 100).toFixed(2)}% of compute time)\n`);
process.stdout.write(`${JSON.stringify(out)}\n`);

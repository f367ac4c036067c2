// Load generator for `longcat serve`: starts the server, runs concurrent streaming chat clients, and reports
// client-side latency and throughput next to the server's own /metrics (mean batch size, the compute idle gap
// between steps, step time). No dependencies beyond Node 18+. The model folder needs a tokenizer.json;
// prompts are --prompt characters of pseudo-random text, distinct per request.
//   node bench/serve_load.mjs --bin build/longcat --model DIR [--clients 8 | --sweep 1,2,4,8,16,32,64]
//        [--requests 48] [--prompt 48] [--max-tokens 32] [--threads 2] [--label NAME] [--roofline]
//        [-- extra serve options, e.g. --no-overlap]
// One level (--clients) or a sweep of concurrency levels on one server (each level runs max(--requests,
// 2 x clients) requests). Per level: output tokens/s, TTFT and TPOT p50/p90/p99 (client side: first chunk;
// (last - first chunk) / (tokens - 1)), the mean batch and the tokens/s of the compute alone (rows over
// forward+sampling time). --roofline also runs `longcat bench --batch <clients>` per level and reports the
// kernel roofline (bytes of a decode step at the measured bandwidth) and the fraction of it the server reached.
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
const sweep = opt('sweep') ? opt('sweep').split(',').map(Number) : null;
const roofline = own.includes('--roofline');
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

// One streaming completion; resolves to {ttft, tpot, seconds, tokens}.
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
  let last = null;
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
      if (chunk.choices.length) {
        last = (performance.now() - start) / 1000;
        if (ttft === null) ttft = last;
      }
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
    }
  }
  const tpot = tokens > 1 ? (last - ttft) / (tokens - 1) : null;
  return { ttft, tpot, seconds: (performance.now() - start) / 1000, tokens };
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

// Exact percentile of samples (nearest rank).
function percentile(xs, q) {
  const v = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)] : 0;
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const delta = (a, b, name) => (b[name] ?? 0) - (a[name] ?? 0);
const metricsOf = async (url) => parseMetrics(await (await fetch(`${url}/metrics`)).text());

// The kernel roofline of a decode step of `batch` sequences, from `longcat bench --batch`.
async function benchRoofline(batch) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)(bin, ['bench', '--model', model, '--batch', String(batch), '--gen', '16',
    '--prompt-len', String(promptLen), '--threads', threads, '--json'], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout).decode.roofline_tokens_per_second;
}

let nextIndex = 0;  // distinct prompts across levels too (no prefix sharing between levels)
async function level(url, c) {
  const n = sweep ? Math.max(requests, 2 * c) : requests;
  const before = await metricsOf(url);
  const t0 = performance.now();
  const results = [];
  let started = 0;
  await Promise.all(Array.from({ length: c }, async () => {
    while (started < n) {
      ++started;
      results.push(await one(url, nextIndex++));
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  const m = await metricsOf(url);
  const tokens = results.reduce((a, r) => a + r.tokens, 0);
  const stepSeconds = delta(before, m, 'longcat_step_duration_seconds_sum');
  const gapSum = delta(before, m, 'longcat_step_gap_seconds_sum');
  const gapBuckets = Object.fromEntries(Object.entries(m.longcat_step_gap_seconds_bucket ?? {})
    .map(([k, v]) => [k, v - (before.longcat_step_gap_seconds_bucket?.[k] ?? 0)]));
  const ttft = results.map((r) => r.ttft);
  const tpot = results.map((r) => r.tpot);
  const out = {
    clients: c, requests: n, wall_seconds: wall,
    output_tokens_per_second: tokens / wall,
    ttft_s: { mean: mean(ttft), p50: percentile(ttft, 0.5), p90: percentile(ttft, 0.9), p99: percentile(ttft, 0.99) },
    tpot_s: { mean: mean(tpot.filter((x) => x !== null)), p50: percentile(tpot, 0.5), p90: percentile(tpot, 0.9),
      p99: percentile(tpot, 0.99) },
    mean_batch_size: delta(before, m, 'longcat_step_sequences_total') / delta(before, m, 'longcat_steps_total'),
    steps: delta(before, m, 'longcat_steps_total'),
    step_mean_s: stepSeconds / delta(before, m, 'longcat_step_duration_seconds_count'),
    // generated tokens per second of forward + sampling time: throughput were the server never idle
    compute_tokens_per_second: delta(before, m, 'longcat_generation_tokens_total') / stepSeconds,
    gap_mean_s: gapSum / Math.max(delta(before, m, 'longcat_step_gap_seconds_count'), 1),
    gap_p50_s: quantile(gapBuckets, 0.5),
    gap_p99_s: quantile(gapBuckets, 0.99),
    gap_share_of_compute: gapSum / (stepSeconds + gapSum),
    gap_buckets: gapBuckets,
    real_experts_per_token: m.longcat_real_experts_per_token,
  };
  if (m.longcat_spec_steps_total !== undefined) {  // serve --speculative mtp: this level's drafts
    out.spec_acceptance_rate_1 = (m.longcat_spec_drafts_accepted_total['{position="1"}'] -
      (before.longcat_spec_drafts_accepted_total?.['{position="1"}'] ?? 0)) /
      (m.longcat_spec_drafts_verified_total['{position="1"}'] -
      (before.longcat_spec_drafts_verified_total?.['{position="1"}'] ?? 0));
    // 1 + drafts kept per sequence-step (steps cut short by eos or max_tokens emit fewer)
    out.spec_tokens_per_target_forward = 1 + Object.keys(m.longcat_spec_drafts_accepted_total).reduce((a, k) => a + m.longcat_spec_drafts_accepted_total[k] -
        (before.longcat_spec_drafts_accepted_total?.[k] ?? 0), 0) / delta(before, m, 'longcat_spec_steps_total');
  }
  if (roofline) {
    out.roofline_tokens_per_second = await benchRoofline(c);
    out.fraction_of_roofline = out.output_tokens_per_second / out.roofline_tokens_per_second;
  }
  return out;
}

const { url, child } = await startServer();
const levels = [];
try {
  await one(url, -1);  // warm-up: pages the memory-mapped weights in before anything is timed
  for (const c of sweep ?? [clients]) levels.push(await level(url, c));
} finally {
  child.kill('SIGTERM');
}

const ms = (s) => (s * 1e3).toFixed(1);
const us = (s) => `${(s * 1e6).toFixed(1)} us`;
let table = `${label}: prompt ${promptLen} chars, ${maxTokens} tokens per request, --threads ${threads}\n` +
  '| clients | requests | tok/s | compute tok/s | mean batch | TTFT p50 / p90 / p99 ms | TPOT p50 / p90 / p99 ms |' +
  ` step ms | idle gap |${roofline ? ' roofline tok/s | of roofline |' : ''}\n` +
  `|---|---|---|---|---|---|---|---|---|${roofline ? '---|---|' : ''}\n`;
for (const l of levels) {
  table += `| ${l.clients} | ${l.requests} | ${l.output_tokens_per_second.toFixed(1)} | ${l.compute_tokens_per_second.toFixed(1)} |` +
    ` ${l.mean_batch_size.toFixed(2)} | ${ms(l.ttft_s.p50)} / ${ms(l.ttft_s.p90)} / ${ms(l.ttft_s.p99)} |` +
    ` ${ms(l.tpot_s.p50)} / ${ms(l.tpot_s.p90)} / ${ms(l.tpot_s.p99)} | ${ms(l.step_mean_s)} |` +
    ` ${us(l.gap_mean_s)} (${(l.gap_share_of_compute * 100).toFixed(1)}%) |` +
    (roofline ? ` ${l.roofline_tokens_per_second.toFixed(1)} | ${(l.fraction_of_roofline * 100).toFixed(1)}% |` : '') + '\n';
}
for (const l of levels.filter((x) => x.spec_acceptance_rate_1 !== undefined))
  table += `  speculative, ${l.clients} clients: acceptance ${l.spec_acceptance_rate_1.toFixed(3)} at draft 1, ` +
    `${l.spec_tokens_per_target_forward.toFixed(2)} tokens per target forward\n`;
process.stderr.write(table);
process.stdout.write(`${JSON.stringify({ label, model, prompt_chars: promptLen, max_tokens: maxTokens,
  threads: Number(threads), server_args: serverArgs, levels })}\n`);

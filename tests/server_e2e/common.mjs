// Shared by the e2e tests: the server run.sh started (LONGCAT_URL, LONGCAT_KEY), the longcat binary and the
// fixture model folder, an SDK client, and `longcat generate` as the one-sequence reference.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import OpenAI from 'openai';

export const url = process.env.LONGCAT_URL;
export const key = process.env.LONGCAT_KEY;
export const bin = process.env.LONGCAT_BIN;
export const modelDir = process.env.LONGCAT_MODEL;
export const modelId = 'tiny';
if (!url || !key || !bin || !modelDir) throw new Error('run these tests through tests/server_e2e/run.sh');

export function client(options = {}) {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, timeout: 120000, ...options });
}

// `longcat generate --json` greedy: {ids, text, finish_reason}.
export async function generate(args) {
  const { stdout } = await promisify(execFile)(bin, ['generate', '--model', modelDir, '--temperature', '0',
    '--threads', '1', '--json', ...args]);
  return JSON.parse(stdout);
}

export async function metrics(base = url) {
  const res = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${key}` } });
  const values = {};
  for (const line of (await res.text()).split('\n')) {
    const m = line.match(/^([a-z_]+(?:\{[^}]*\})?) (\S+)$/);
    if (m) values[m[1]] = Number(m[2]);
  }
  return values;
}

export async function waitFor(predicate, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

// A second server with its own options (for limits the shared one must not have), on the fixture model or
// `model`; resolves to {url, stop}.
export async function startServer(extraArgs, model = modelDir) {
  const child = spawn(bin, ['serve', '--model', model, '--port', '0', '--alias', modelId, '--api-key', key,
    '--threads', '1', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/listening on http:\/\/[^:]+:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/health`).catch(() => ({ status: 0 }))).status === 200);
  const stop = () => new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
  return { url: base, stop };
}
